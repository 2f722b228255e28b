// Texts of the try-on page in English, French and Chinese (Simplified), and the helpers that use them.
// Every string the shopper sees or hears (aria-label, title) comes from here; product names and
// descriptions come from the catalog as they are.

export const LANGS = ["en", "fr", "zh"];

/** Language names as shown in the language picker (each in its own language). */
export const LANGUAGE_NAMES = { en: "English", fr: "Français", zh: "简体中文" };

/** Locale used for Intl formatting (prices, numbers). */
export const LOCALES = { en: "en", fr: "fr-FR", zh: "zh-CN" };

const en = {
  "app.title": "Virtual try-on",
  "app.subtitle": "See it on you, live",
  "lang.label": "Language",

  "start.heading": "Try it on, live",
  "start.text": "Turn on your camera to see the products on your face in real time, or try them on a photo.",
  "start.camera": "Start camera",
  "start.photo": "Use a photo",

  "stage.label": "Try-on view",
  "stage.video": "Your live try-on video",
  "stage.photoResult": "Your photo with the look applied",
  "stage.photoOriginal": "Your original photo",
  "status.starting": "Starting the camera…",
  "status.connecting": "Connecting to the try-on…",
  "status.processing": "Applying the look…",
  "badge.live": "Live",
  "badge.paused": "Paused",
  "badge.photo": "Photo",

  "controls.label": "Try-on controls",
  "controls.intensity": "Intensity",
  "controls.compare": "Before / after",
  "controls.mirror": "Mirror",
  "controls.pause": "Pause try-on",
  "controls.stats": "Stats",
  "controls.snapshot": "Snapshot",
  "controls.snapshotPair": "with before/after",
  "controls.stopCamera": "Stop camera",
  "controls.closePhoto": "Close photo",
  "controls.changePhoto": "Another photo",

  "split.label": "Position of the before/after divider",
  "split.before": "Before",
  "split.after": "After",

  "look.heading": "Your look",
  "look.empty": "Pick products to build your look.",
  "look.clear": "Clear",
  "look.clearLabel": "Remove every product from your look",
  "look.item": "{name} · {shade}",
  "look.edit": "Change the shade of {name}",
  "look.remove": "Remove {name} from your look",

  "detail.heading": "Shades",
  "detail.hint": "Select a product to see its shades.",
  "detail.shades": "Shades of {name}",
  "detail.current": "Shade: {shade} · {finish}",
  "detail.sizes": "Size chart (cm)",
  "detail.size": "Size",
  "detail.chest": "Chest",
  "detail.waist": "Waist",
  "detail.length": "Length",

  "products.heading": "Products",
  "products.loading": "Loading products…",
  "products.none": "No products in this category.",
  "products.buy": "Buy",
  "products.buyLabel": "Buy {name} (opens in a new tab)",
  "products.comingSoon": "Coming soon",
  "products.inLook": "In your look",

  "filters.label": "Filter products by category",
  "group.all": "All",
  "group.other": "Other",


  "finish.matte": "Matte",
  "finish.satin": "Satin",
  "finish.cream": "Cream",
  "finish.gloss": "Gloss",
  "finish.shimmer": "Shimmer",
  "finish.metallic": "Metallic",
  "finish.natural": "Natural",
  "finish.glitter": "Glitter",

  "msg.dismiss": "Dismiss",
  "msg.retry": "Retry",
  "msg.usePhoto": "Use a photo instead",
  "err.noMediaDevices": "This browser cannot use the camera here. Open the page over https (or on localhost) in an up-to-date browser, or use a photo.",
  "err.cameraDenied": "Camera access was refused. To try products on live, allow the camera: click the camera or lock icon in the address bar (or open the site settings of your browser), choose “Allow”, then press Retry. You can also use a photo instead.",
  "err.noCamera": "No suitable camera was found. Connect a camera and press Retry, or use a photo instead.",
  "err.cameraInUse": "The camera is already in use by another application or tab. Close it, then press Retry.",
  "err.camera": "The camera could not be started.",
  "err.connectFailed": "Could not connect to the try-on server.",
  "err.connectTimeout": "The connection to the try-on server timed out. Check your network, then press Retry.",
  "err.noVideo": "The try-on server is not sending any video.",
  "err.connectionLost": "The connection to the try-on server was lost.",
  "err.busy": "The try-on is busy right now. Please try again in a moment.",
  "err.server": "The try-on could not apply your last change.",
  "err.catalog": "The products could not be loaded.",
  "err.unknownProduct": "The product “{id}” does not exist, so it was left out of your look.",
  "err.unknownShade": "The shade “{shade}” of {name} does not exist, so it was left out of your look.",
  "err.notRenderable": "{name} cannot be tried on yet, so it was left out of your look.",
  "err.tooManyProducts": "Your look can hold at most {count} products.",
  "err.photo": "The photo could not be processed.",
  "err.photoTooLarge": "This photo is too large. Please choose a smaller one.",
  "err.notImage": "This file is not a JPEG, PNG or WebP image. Please choose a photo in one of those formats.",
  "err.snapshot": "The snapshot could not be saved.",
  "info.noFace": "No face found in this photo. Try one where your face is clearly visible, well lit and facing the camera.",

  "stats.heading": "Stats",
  "stats.fps": "FPS in / out",
  "stats.frames": "Frames in / out",
  "stats.dropped": "Dropped",
  "stats.failures": "Failures",
  "stats.latency": "Server latency",
  "stats.paused": "Paused",
  "stats.stages": "Stages",
  "stats.browserFps": "Received FPS",
  "stats.resolution": "Resolution",
  "stats.rtt": "Round trip",
  "stats.waiting": "Waiting for stats…",
  "stats.yes": "yes",
  "stats.no": "no",
};

const fr = {
  "app.title": "Essayage virtuel",
  "app.subtitle": "Essayez en direct",
  "lang.label": "Langue",

  "start.heading": "Essayez en direct",
  "start.text": "Activez votre caméra pour voir les produits sur votre visage en temps réel, ou essayez-les sur une photo.",
  "start.camera": "Activer la caméra",
  "start.photo": "Utiliser une photo",

  "stage.label": "Vue d’essayage",
  "stage.video": "Votre vidéo d’essayage en direct",
  "stage.photoResult": "Votre photo avec le look appliqué",
  "stage.photoOriginal": "Votre photo d’origine",
  "status.starting": "Démarrage de la caméra…",
  "status.connecting": "Connexion à l’essayage…",
  "status.processing": "Application du look…",
  "badge.live": "En direct",
  "badge.paused": "En pause",
  "badge.photo": "Photo",

  "controls.label": "Réglages de l’essayage",
  "controls.intensity": "Intensité",
  "controls.compare": "Avant / après",
  "controls.mirror": "Miroir",
  "controls.pause": "Mettre l’essayage en pause",
  "controls.stats": "Statistiques",
  "controls.snapshot": "Capture",
  "controls.snapshotPair": "avec avant/après",
  "controls.stopCamera": "Arrêter la caméra",
  "controls.closePhoto": "Fermer la photo",
  "controls.changePhoto": "Autre photo",

  "split.label": "Position du séparateur avant/après",
  "split.before": "Avant",
  "split.after": "Après",

  "look.heading": "Votre look",
  "look.empty": "Choisissez des produits pour composer votre look.",
  "look.clear": "Effacer",
  "look.clearLabel": "Retirer tous les produits de votre look",
  "look.item": "{name} · {shade}",
  "look.edit": "Changer la teinte de {name}",
  "look.remove": "Retirer {name} de votre look",

  "detail.heading": "Teintes",
  "detail.hint": "Sélectionnez un produit pour voir ses teintes.",
  "detail.shades": "Teintes de {name}",
  "detail.current": "Teinte : {shade} · {finish}",
  "detail.sizes": "Guide des tailles (cm)",
  "detail.size": "Taille",
  "detail.chest": "Poitrine",
  "detail.waist": "Taille (tour)",
  "detail.length": "Longueur",

  "products.heading": "Produits",
  "products.loading": "Chargement des produits…",
  "products.none": "Aucun produit dans cette catégorie.",
  "products.buy": "Acheter",
  "products.buyLabel": "Acheter {name} (s’ouvre dans un nouvel onglet)",
  "products.comingSoon": "Bientôt disponible",
  "products.inLook": "Dans votre look",

  "filters.label": "Filtrer les produits par catégorie",
  "group.all": "Tout",
  "group.other": "Autres",


  "finish.matte": "Mat",
  "finish.satin": "Satiné",
  "finish.cream": "Crème",
  "finish.gloss": "Brillant",
  "finish.shimmer": "Irisé",
  "finish.metallic": "Métallisé",
  "finish.natural": "Naturel",
  "finish.glitter": "Pailleté",

  "msg.dismiss": "Fermer",
  "msg.retry": "Réessayer",
  "msg.usePhoto": "Utiliser une photo à la place",
  "err.noMediaDevices": "Ce navigateur ne peut pas utiliser la caméra ici. Ouvrez la page en https (ou sur localhost) dans un navigateur à jour, ou utilisez une photo.",
  "err.cameraDenied": "L’accès à la caméra a été refusé. Pour essayer les produits en direct, autorisez la caméra : cliquez sur l’icône de caméra ou de cadenas dans la barre d’adresse (ou ouvrez les paramètres du site dans votre navigateur), choisissez « Autoriser », puis appuyez sur Réessayer. Vous pouvez aussi utiliser une photo.",
  "err.noCamera": "Aucune caméra adaptée n’a été trouvée. Branchez une caméra et appuyez sur Réessayer, ou utilisez une photo.",
  "err.cameraInUse": "La caméra est déjà utilisée par une autre application ou un autre onglet. Fermez-les, puis appuyez sur Réessayer.",
  "err.camera": "La caméra n’a pas pu démarrer.",
  "err.connectFailed": "Impossible de se connecter au serveur d’essayage.",
  "err.connectTimeout": "La connexion au serveur d’essayage a expiré. Vérifiez votre réseau, puis appuyez sur Réessayer.",
  "err.noVideo": "Le serveur d’essayage n’envoie aucune vidéo.",
  "err.connectionLost": "La connexion au serveur d’essayage a été perdue.",
  "err.busy": "L’essayage est très demandé en ce moment. Réessayez dans un instant.",
  "err.server": "L’essayage n’a pas pu appliquer votre dernière modification.",
  "err.catalog": "Les produits n’ont pas pu être chargés.",
  "err.unknownProduct": "Le produit « {id} » n’existe pas ; il a été retiré de votre look.",
  "err.unknownShade": "La teinte « {shade} » de {name} n’existe pas ; elle a été retirée de votre look.",
  "err.notRenderable": "{name} ne peut pas encore être essayé ; il a été retiré de votre look.",
  "err.tooManyProducts": "Votre look peut contenir au plus {count} produits.",
  "err.photo": "La photo n’a pas pu être traitée.",
  "err.photoTooLarge": "Cette photo est trop volumineuse. Choisissez-en une plus petite.",
  "err.notImage": "Ce fichier n’est pas une image JPEG, PNG ou WebP. Choisissez une photo dans l’un de ces formats.",
  "err.snapshot": "La capture n’a pas pu être enregistrée.",
  "info.noFace": "Aucun visage trouvé sur cette photo. Essayez-en une où votre visage est bien visible, bien éclairé et face à l’objectif.",

  "stats.heading": "Statistiques",
  "stats.fps": "IPS entrée / sortie",
  "stats.frames": "Images entrée / sortie",
  "stats.dropped": "Abandonnées",
  "stats.failures": "Échecs",
  "stats.latency": "Latence serveur",
  "stats.paused": "En pause",
  "stats.stages": "Étapes",
  "stats.browserFps": "IPS reçues",
  "stats.resolution": "Résolution",
  "stats.rtt": "Aller-retour",
  "stats.waiting": "En attente des statistiques…",
  "stats.yes": "oui",
  "stats.no": "non",
};

const zh = {
  "app.title": "虚拟试妆",
  "app.subtitle": "实时看到上妆效果",
  "lang.label": "语言",

  "start.heading": "实时试妆",
  "start.text": "打开摄像头，实时看到产品在你脸上的效果；也可以上传照片试用。",
  "start.camera": "打开摄像头",
  "start.photo": "使用照片",

  "stage.label": "试妆画面",
  "stage.video": "你的实时试妆视频",
  "stage.photoResult": "应用妆容后的照片",
  "stage.photoOriginal": "你的原始照片",
  "status.starting": "正在启动摄像头…",
  "status.connecting": "正在连接试妆服务…",
  "status.processing": "正在应用妆容…",
  "badge.live": "直播中",
  "badge.paused": "已暂停",
  "badge.photo": "照片",

  "controls.label": "试妆控制",
  "controls.intensity": "浓度",
  "controls.compare": "前后对比",
  "controls.mirror": "镜像",
  "controls.pause": "暂停试妆",
  "controls.stats": "统计",
  "controls.snapshot": "截图",
  "controls.snapshotPair": "包含前后对比",
  "controls.stopCamera": "关闭摄像头",
  "controls.closePhoto": "关闭照片",
  "controls.changePhoto": "换一张照片",

  "split.label": "前后对比分割线位置",
  "split.before": "之前",
  "split.after": "之后",

  "look.heading": "我的妆容",
  "look.empty": "选择产品来搭配你的妆容。",
  "look.clear": "清空",
  "look.clearLabel": "移除妆容中的所有产品",
  "look.item": "{name} · {shade}",
  "look.edit": "更换{name}的色号",
  "look.remove": "从妆容中移除{name}",

  "detail.heading": "色号",
  "detail.hint": "选择一个产品查看其色号。",
  "detail.shades": "{name}的色号",
  "detail.current": "色号：{shade} · {finish}",
  "detail.sizes": "尺码表（厘米）",
  "detail.size": "尺码",
  "detail.chest": "胸围",
  "detail.waist": "腰围",
  "detail.length": "衣长",

  "products.heading": "产品",
  "products.loading": "正在加载产品…",
  "products.none": "此类别中没有产品。",
  "products.buy": "购买",
  "products.buyLabel": "购买{name}（在新标签页中打开）",
  "products.comingSoon": "即将推出",
  "products.inLook": "已在妆容中",

  "filters.label": "按类别筛选产品",
  "group.all": "全部",
  "group.other": "其他",


  "finish.matte": "哑光",
  "finish.satin": "缎光",
  "finish.cream": "奶油",
  "finish.gloss": "亮泽",
  "finish.shimmer": "珠光",
  "finish.metallic": "金属光",
  "finish.natural": "自然",
  "finish.glitter": "闪片",

  "msg.dismiss": "关闭",
  "msg.retry": "重试",
  "msg.usePhoto": "改用照片",
  "err.noMediaDevices": "此浏览器无法在这里使用摄像头。请使用最新版浏览器通过 https（或 localhost）打开本页，或改用照片。",
  "err.cameraDenied": "摄像头权限被拒绝。要实时试妆，请允许使用摄像头：点击地址栏中的摄像头或锁形图标（或打开浏览器的网站设置），选择“允许”，然后点击“重试”。你也可以改用照片。",
  "err.noCamera": "未找到可用的摄像头。请连接摄像头后点击“重试”，或改用照片。",
  "err.cameraInUse": "摄像头正被其他应用或标签页占用。请关闭它们，然后点击“重试”。",
  "err.camera": "无法启动摄像头。",
  "err.connectFailed": "无法连接到试妆服务器。",
  "err.connectTimeout": "连接试妆服务器超时。请检查网络，然后点击“重试”。",
  "err.noVideo": "试妆服务器没有发送视频。",
  "err.connectionLost": "与试妆服务器的连接已断开。",
  "err.busy": "试妆服务当前繁忙，请稍后再试。",
  "err.server": "试妆无法应用你刚才的更改。",
  "err.catalog": "无法加载产品。",
  "err.unknownProduct": "产品“{id}”不存在，已从妆容中略过。",
  "err.unknownShade": "{name}没有色号“{shade}”，已从妆容中略过。",
  "err.notRenderable": "{name}暂不支持试妆，已从妆容中略过。",
  "err.tooManyProducts": "妆容中最多可包含 {count} 个产品。",
  "err.photo": "无法处理这张照片。",
  "err.photoTooLarge": "照片太大，请选择一张较小的照片。",
  "err.notImage": "此文件不是 JPEG、PNG 或 WebP 图片，请选择这些格式之一的照片。",
  "err.snapshot": "无法保存截图。",
  "info.noFace": "这张照片中没有找到人脸。请换一张脸部清晰、光线充足并正对镜头的照片。",

  "stats.heading": "统计",
  "stats.fps": "输入 / 输出帧率",
  "stats.frames": "输入 / 输出帧数",
  "stats.dropped": "丢帧",
  "stats.failures": "失败",
  "stats.latency": "服务器延迟",
  "stats.paused": "已暂停",
  "stats.stages": "各阶段",
  "stats.browserFps": "接收帧率",
  "stats.resolution": "分辨率",
  "stats.rtt": "往返时间",
  "stats.waiting": "等待统计数据…",
  "stats.yes": "是",
  "stats.no": "否",
};

export const dictionaries = { en, fr, zh };

let current = "en";

/** The language in use: "en", "fr" or "zh". */
export function getLang() {
  return current;
}

/** Switch the language (unknown codes are ignored); returns the language in use. */
export function setLang(lang) {
  if (LANGS.includes(lang)) current = lang;
  return current;
}

/** The first of `preferred` (BCP 47 tags such as "fr-CA", "zh-Hans-CN") that we speak, else "en". */
export function pickLang(preferred) {
  for (const tag of preferred || []) {
    const base = String(tag).toLowerCase().split(/[-_]/)[0];
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

/**
 * The text for `key` in the current language (English, then the key itself, when missing),
 * with `{name}` placeholders replaced by `vars.name`.
 */
export function t(key, vars) {
  const text = dictionaries[current][key] ?? dictionaries.en[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

function humanize(word) {
  const s = String(word).replace(/[_-]+/g, " ").trim();
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** A product kind ("lip_gloss") as shown to the shopper. */
export function kindName(kind) {
  return registryName(kindNames[kind]) ?? humanize(kind);
}

// Kinds' and product groups' names come with the catalog (GET /api/catalog), from the kind registry.
let kindNames = {};
/** Take the names the catalog sent: {kind: {lang: name}}. */
export function setKindNames(names) { kindNames = names ?? {}; }
/** A registry name ({lang: name}) in the page's language, else in English. */
export function registryName(names) { return names ? names[current] ?? names.en : undefined; }

/** A finish ("metallic") as shown to the shopper. */
export function finishName(finish) {
  if (!finish) return "";
  const key = `finish.${finish}`;
  return key in dictionaries.en ? t(key) : humanize(finish);
}

/**
 * Fill the static texts under `root`: `data-i18n` (text), `data-i18n-aria-label`,
 * `data-i18n-title` and `data-i18n-alt` name the keys.
 */
export function applyTranslations(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-alt]")) el.alt = t(el.dataset.i18nAlt);
}
