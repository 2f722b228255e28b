"""The drawn garments (tryon.art.garments, assets/make_garments.py): anchors where they belong
on the image and the part map, part labels on the right side, the child's pyjama a 65% copy of the
adult's with the same pattern, and every garment in the catalog complete."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.art.garments import (
    FOREARM_MM,
    GARMENT_COLOURWAYS,
    GARMENT_STYLES,
    MAX_SIDE_PX,
    PX_PER_MM,
    UPPER_ARM_MM,
    draw_garment,
)
from tryon.catalog import Catalog, Product
from tryon.catalog.schema import REQUIRED_ANCHORS
from tryon.errors import InputError

Anchors = dict[str, tuple[float, float]]
GARMENT_KINDS = ("top", "dress", "jacket")
SIDES = (("left", 2), ("right", 3))
"""Anchor prefix and sleeve label: the wearer's left sleeve is on the image's right, label 2."""
ADULT, CHILD = "holiday-fair-isle-pyjama-top-adult", "holiday-fair-isle-pyjama-top-child"


def _read(path: object) -> NDArray[np.uint8]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, f"cannot read {path}"
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return np.asarray(image, np.uint8)


def _majority(parts: NDArray[np.uint8], xy: tuple[float, float], radius: float) -> int:
    """The most common non-zero label within ``radius`` px of ``xy`` (0 if none)."""
    h, w = parts.shape
    x, y = xy
    yy, xx = np.mgrid[0:h, 0:w]
    near = parts[((xx - x) ** 2 + (yy - y) ** 2 <= radius**2) & (parts > 0)]
    return int(np.bincount(near).argmax()) if near.size else 0


def _extent(
    parts: NDArray[np.uint8], start: NDArray[np.float64], step: NDArray[np.float64], label: int
) -> float:
    """How far (px) from ``start`` along unit ``step`` the pixels keep ``label``."""
    h, w = parts.shape
    for k in range(1, 2000):
        x, y = np.round(start + step * k).astype(int)
        if not (0 <= x < w and 0 <= y < h) or parts[y, x] != label:
            return float(k)
    return 2000.0


def problems(rgba: NDArray[np.uint8], parts: NDArray[np.uint8], anchors: Anchors, px_mm: float) -> list[str]:
    """Everything wrong with a garment image, its part map and anchors (empty: all good)."""
    out: list[str] = []
    alpha = rgba[..., 3]
    if parts.shape != alpha.shape or parts.ndim != 2:
        return [f"parts {parts.shape} is not a single channel the image's size {alpha.shape}"]
    if not set(np.unique(parts).tolist()) <= {0, 1, 2, 3}:
        out.append(f"labels other than 0-3: {sorted(set(np.unique(parts).tolist()))}")
    if not np.array_equal(alpha > 0, parts > 0):
        out.append(f"alpha > 0 and label > 0 differ on {int(np.sum((alpha > 0) != (parts > 0)))} pixels")
    if np.any(rgba[alpha == 0][:, :3]):
        out.append("colour where alpha is 0")
    a = {k: np.asarray(v, np.float64) for k, v in anchors.items()}
    need = [*REQUIRED_ANCHORS["top"], "left_waist", "right_waist"]
    missing = [k for k in need if k not in a]
    if missing:
        return [*out, f"missing anchors {missing}"]
    for name in ("shoulder", "armpit", "elbow", "cuff", "waist", "hem"):
        if f"left_{name}" in a and not a[f"left_{name}"][0] > a[f"right_{name}"][0]:
            out.append(f"left_{name} is not to the right of right_{name} in the image")
    if not a["right_shoulder"][0] < a["neck"][0] < a["left_shoulder"][0]:
        out.append("neck not between the shoulders")
    if not a["neck"][1] < min(a["left_shoulder"][1], a["right_shoulder"][1]):
        out.append("neck not above the shoulders")
    for side, label in SIDES:
        ys = [a[f"{side}_{k}"][1] for k in ("shoulder", "armpit", "waist", "hem")]
        if ys != sorted(ys) or len(set(ys)) < 4:
            out.append(f"{side}: shoulder, armpit, waist, hem not one below the other: {ys}")
        sleeve = np.argwhere(parts == label)
        if sleeve.size == 0:
            out.append(f"{side}: no sleeve labelled {label}")
            continue
        centre_x = a["neck"][0]
        wrong = np.mean(sleeve[:, 1] < centre_x) if label == 2 else np.mean(sleeve[:, 1] > centre_x)
        if wrong > 0:
            out.append(f"{side} sleeve (label {label}) on the wrong side of the image ({wrong:.0%})")
        if _majority(parts, anchors[f"{side}_cuff"], 3 * px_mm) != label:
            out.append(f"{side}_cuff is not on its sleeve's label {label}")
        for k in ("waist",):
            if _majority(parts, anchors[f"{side}_{k}"], 3 * px_mm) != 1:
                out.append(f"{side}_{k} is not on the body")
        root = (a[f"{side}_shoulder"] + a[f"{side}_armpit"]) / 2
        cuff = a[f"{side}_cuff"]
        if f"{side}_elbow" in a:
            e = a[f"{side}_elbow"]
            seg = cuff - root
            t = float((e - root) @ seg / (seg @ seg))
            rel = e - root
            off = abs(float(seg[0] * rel[1] - seg[1] * rel[0])) / float(np.linalg.norm(seg))
            if not (0.2 < t < 0.8 and off < 0.1 * float(np.linalg.norm(seg))):
                out.append(f"{side}_elbow not on the sleeve between shoulder and cuff (t={t:.2f})")
            if parts[round(e[1]), round(e[0])] != label:
                out.append(f"{side}_elbow is not on its sleeve")
            # The sleeve's centre line: as much sleeve either side of the elbow and the cuff.
            for point, d in (
                (e, cuff - e),
                (cuff - (cuff - e) / np.linalg.norm(cuff - e) * 5 * px_mm, cuff - e),
            ):
                d = d / np.linalg.norm(d)
                n = np.array([-d[1], d[0]])
                one, two = _extent(parts, point, n, label), _extent(parts, point, -n, label)
                if abs(one - two) > 0.2 * (one + two):
                    out.append(
                        f"{side}: the sleeve's centre line misses {point.round(1)} ({one} vs {two} px)"
                    )
    if _majority(parts, anchors["neck"], 3 * px_mm) != 1:
        out.append("neck is not on the body")
    edge = cv2.distanceTransform((alpha == 0).astype(np.uint8), cv2.DIST_L2, 5)
    h, w = alpha.shape
    for k, (x, y) in anchors.items():
        xi, yi = round(x), round(y)
        if not (0 <= xi < w and 0 <= yi < h):
            out.append(f"{k} outside the image")
        elif alpha[yi, xi] == 0 and edge[yi, xi] > 3 * px_mm:
            out.append(f"{k} is {edge[yi, xi] / px_mm:.1f} mm off the garment")
    return out


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="module")
def garments(catalog: Catalog) -> list[Product]:
    out = [p for p in catalog if p.kind in GARMENT_KINDS]
    assert len(out) >= 9
    return out


def _front(p: Product) -> tuple[NDArray[np.uint8], NDArray[np.uint8], Anchors, float]:
    front, parts = p.assets["front"], p.assets["parts"]
    rgba = _read(front.path)
    px_mm = rgba.shape[1] / front.size_mm["width"]
    return rgba, _read(parts.path), dict(front.anchors), px_mm


def test_the_starter_catalog_has_the_garments_of_issue_7(garments: list[Product]) -> None:
    ids = {p.id for p in garments}
    assert {ADULT, CHILD} <= ids
    assert {p.kind for p in garments} == set(GARMENT_KINDS)
    assert sum(len(p.variants) for p in garments) >= 15
    for p in garments:
        assert p.params["fit"] in ("slim", "regular", "loose")
        assert len(p.sizes) >= 4, p.id
        assert all(s.length_cm is not None for s in p.sizes), p.id


def test_garments_load_with_the_name_their_product_json_gives(garments: list[Product]) -> None:
    for p in garments:
        written = json.loads((p.folder / "product.json").read_text(encoding="utf-8"))
        assert p.name == written["name"], p.id


def test_every_catalog_garment_loads_with_front_parts_and_its_anchors(garments: list[Product]) -> None:
    for p in garments:
        for name in ("front", "parts", "thumbnail"):
            assert name in p.assets, f"{p.id}: no {name!r} asset"
        front = p.assets["front"]
        assert set(REQUIRED_ANCHORS[p.kind]) <= set(front.anchors), p.id
        rgba, parts, anchors, px_mm = _front(p)
        assert rgba.ndim == 3, p.id
        assert rgba.shape[2] == 4, p.id
        assert max(rgba.shape[:2]) <= MAX_SIDE_PX, p.id
        assert 1.2 <= px_mm <= PX_PER_MM + 1e-6, (p.id, px_mm)
        assert _read(p.assets["thumbnail"].path).shape == (256, 256, 3), p.id
        assert problems(rgba, parts, anchors, px_mm) == [], p.id
        long = "left_elbow" in anchors
        assert long == ("right_elbow" in anchors), p.id


def test_every_colourway_has_the_same_geometry_as_front(garments: list[Product]) -> None:
    for p in garments:
        front = p.assets["front"]
        alpha = _read(front.path)[..., 3]
        assert p.variants[0].asset in (None, "front"), p.id
        for v in p.variants[1:]:
            assert v.asset is not None, (p.id, v.id)
            assert v.asset in p.assets, (p.id, v.id)
            other = p.assets[v.asset]
            assert dict(other.anchors) == dict(front.anchors), (p.id, v.id)
            assert dict(other.size_mm) == dict(front.size_mm), (p.id, v.id)
            image = _read(other.path)
            assert np.array_equal(image[..., 3], alpha), (p.id, v.id)
            assert not np.array_equal(image, _read(front.path)), (p.id, v.id)
            assert v.color is None


def test_sleeves_and_bodies_have_real_proportions(garments: list[Product]) -> None:
    for p in garments:
        _, _, anchors, px_mm = _front(p)
        a = {k: np.asarray(v) / px_mm for k, v in anchors.items()}  # mm
        size = float(np.linalg.norm(a["left_shoulder"] - a["right_shoulder"])) / 440.0
        assert 0.6 <= size <= 1.1, (p.id, size)
        length = (a["left_hem"][1] - a["neck"][1]) / size
        assert (900 <= length <= 1100) if p.kind == "dress" else (560 <= length <= 760), (p.id, length)
        for side in ("left", "right"):
            if f"{side}_elbow" in a:
                upper = np.linalg.norm(a[f"{side}_elbow"] - a[f"{side}_shoulder"]) / size
                lower = np.linalg.norm(a[f"{side}_cuff"] - a[f"{side}_elbow"]) / size
                assert UPPER_ARM_MM * 0.9 <= upper <= UPPER_ARM_MM * 1.15, (p.id, upper)
                assert FOREARM_MM * 0.9 <= lower <= FOREARM_MM * 1.15, (p.id, lower)
            down = a[f"{side}_cuff"] - (a[f"{side}_shoulder"] + a[f"{side}_armpit"]) / 2
            angle = math.degrees(math.atan2(abs(down[0]), down[1]))
            assert 10 <= angle <= 30, (p.id, side, angle)  # hanging down and a little out


def _histogram(rgba: NDArray[np.uint8]) -> NDArray[np.float64]:
    rgb = rgba[rgba[..., 3] == 255][:, :3] // 32
    idx = rgb[:, 0].astype(np.int64) * 64 + rgb[:, 1] * 8 + rgb[:, 2]
    hist = np.bincount(idx, minlength=512).astype(np.float64)
    return hist / hist.sum()


def test_the_child_pyjama_is_the_adult_s_at_65_percent_with_the_same_pattern(catalog: Catalog) -> None:
    adult, child = catalog.get(ADULT), catalog.get(CHILD)
    assert [v.id for v in adult.variants] == [v.id for v in child.variants]
    _, _, a_anchors, a_px = _front(adult)
    _, _, c_anchors, c_px = _front(child)
    assert child.assets["front"].size_mm["width"] / adult.assets["front"].size_mm["width"] == pytest.approx(
        0.65, abs=0.02
    )

    def shoulders(anchors: Anchors, px_mm: float) -> float:
        return float(np.linalg.norm(np.subtract(anchors["left_shoulder"], anchors["right_shoulder"]))) / px_mm

    assert shoulders(c_anchors, c_px) / shoulders(a_anchors, a_px) == pytest.approx(0.65, abs=0.02)
    for key in ("neck", "left_cuff", "right_hem"):
        a_mm = np.subtract(a_anchors[key], a_anchors["neck"]) / a_px
        c_mm = np.subtract(c_anchors[key], c_anchors["neck"]) / c_px
        assert np.allclose(c_mm, a_mm * 0.65, atol=8.0), key
    # The same pattern: colour histograms of each colourway match across sizes, not across colours.
    hists = {}
    for p in (adult, child):
        for v in p.variants:
            hists[p.id, v.id] = _histogram(_read(p.assets[v.asset or "front"].path))
    for v in adult.variants:
        same = np.minimum(hists[ADULT, v.id], hists[CHILD, v.id]).sum()
        assert same > 0.75, (v.id, same)
        for w in adult.variants:
            if w.id != v.id:
                assert np.minimum(hists[ADULT, v.id], hists[CHILD, w.id]).sum() < same - 0.3
    tee = _histogram(_front(catalog.get("everyday-crew-tee"))[0])
    assert np.minimum(tee, hists[ADULT, adult.variants[0].id]).sum() < 0.3


@pytest.mark.parametrize(
    "breakage",
    [
        "sleeves swapped",
        "anchor off the garment",
        "left and right swapped",
        "label without alpha",
        "elbow off",
    ],
)
def test_the_checks_catch_a_broken_garment(breakage: str, catalog: Catalog) -> None:
    rgba, parts, anchors, px_mm = _front(catalog.get("mariner-breton-top"))
    assert problems(rgba, parts, anchors, px_mm) == []
    parts, anchors = parts.copy(), dict(anchors)
    if breakage == "sleeves swapped":
        parts = np.where(parts == 2, 3, np.where(parts == 3, 2, parts)).astype(np.uint8)
    elif breakage == "anchor off the garment":
        anchors["left_waist"] = (anchors["left_waist"][0] + 20 * px_mm, anchors["left_waist"][1])
    elif breakage == "left and right swapped":
        for k in ("shoulder", "armpit"):
            anchors[f"left_{k}"], anchors[f"right_{k}"] = anchors[f"right_{k}"], anchors[f"left_{k}"]
    elif breakage == "label without alpha":
        parts[0:3, 0:3] = 1
    else:
        e = anchors["left_elbow"]
        anchors["left_elbow"] = (e[0] + 30 * px_mm, e[1])
    assert problems(rgba, parts, anchors, px_mm) != []


# -- draw_garment itself --------------------------------------------------------------------------


def test_draw_garment_returns_a_consistent_image_parts_and_anchors() -> None:
    for style in ("crew-tee", "flannel-shirt", "wrap-dress"):
        rgba, parts, anchors, width_mm = draw_garment(style, GARMENT_COLOURWAYS[style][0], size=0.5)
        assert rgba.dtype == np.uint8
        assert rgba.shape[2] == 4
        assert parts.shape == rgba.shape[:2]
        px_mm = rgba.shape[1] / width_mm
        assert px_mm == pytest.approx(PX_PER_MM)
        assert problems(rgba, parts, anchors, px_mm) == [], style
        assert ("left_elbow" in anchors) == (style == "flannel-shirt")


def test_colourways_share_geometry_and_fits_change_the_body_width() -> None:
    one = draw_garment("breton-top", "navy", size=0.5, fit="slim")
    two = draw_garment("breton-top", "red", size=0.5, fit="slim")
    assert np.array_equal(one[1], two[1])
    assert one[2] == two[2]
    assert one[3] == two[3]
    assert not np.array_equal(one[0], two[0])
    widths = {}
    for fit in ("slim", "regular", "loose"):
        _, _, anchors, _ = draw_garment("crew-tee", "white", size=0.5, fit=fit)
        widths[fit] = anchors["left_waist"][0] - anchors["right_waist"][0]
    assert 0.84 <= widths["slim"] / widths["regular"] <= 0.93
    assert 1.07 <= widths["loose"] / widths["regular"] <= 1.16


def test_draw_garment_rejects_what_it_does_not_know() -> None:
    assert len(GARMENT_STYLES) >= 8
    with pytest.raises(InputError):
        draw_garment("kilt", "red")
    with pytest.raises(InputError):
        draw_garment("crew-tee", "purple")
    with pytest.raises(InputError):
        draw_garment("crew-tee", "white", fit="baggy")
    with pytest.raises(InputError):
        draw_garment("crew-tee", "white", size=3.0)
