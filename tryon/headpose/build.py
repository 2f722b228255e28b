"""``python -m tryon.headpose.build``: rebuild ``canonical_face.npz`` from the astronaut (public
domain) and its mirror image, with our own face landmark model (needs the test extras)."""

from __future__ import annotations

import numpy as np

from tryon.errors import ModelError
from tryon.headpose.canonical import DATA, build_canonical


def main() -> int:
    from skimage.data import astronaut

    from tryon.perception import Perception, PerceptionConfig

    image = np.ascontiguousarray(astronaut())  # type: ignore[no-untyped-call]
    perception = Perception(PerceptionConfig(static_image_mode=True))
    faces = perception.process(image).faces
    flipped = perception.process(np.ascontiguousarray(image[:, ::-1])).faces
    if len(faces) != 1 or len(flipped) != 1:
        raise ModelError("canonical face: expected one face in the astronaut and its mirror image")
    back = flipped[0].landmarks.astype(np.float64).copy()
    back[:, 0] = image.shape[1] - 1 - back[:, 0]
    face = build_canonical(faces[0].landmarks, back)
    np.savez_compressed(DATA, shape=face.shape.astype(np.float32), mirror=face.mirror.astype(np.int16))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
