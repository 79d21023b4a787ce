"""Generate the sample news sites and their ground truth from the article data.

    python samples/build.py          # rewrites samples/sites/ and samples/truth.json

The article data (titles, body paragraphs, dates, authors, story groups) lives in
``samples/content/<site>.py``; every page here is generated from it, so the served pages
and ``truth.json`` cannot drift apart. Each site has its own layout class below with its
own DOM, class names and widget order, modelled on the real site as far as known.
Links use the ``{{BASE}}`` placeholder that ``akhbar.samples`` replaces when serving.
"""

from __future__ import annotations

import html
import importlib
import json
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BASE = "{{BASE}}"
SITE_ORDER = [
    "syriandays",
    "eremnews",
    "alittihad",
    "aljazeera",
    "shaam",
    "sana",
    "hespress",
    "annahar",
    "echorouk",
]

# --------------------------------------------------------------------------------------
# Dates in the spellings the sites use
# --------------------------------------------------------------------------------------
WEEKDAYS = ["الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
MONTHS = {
    # Gulf/Egyptian names; sites differ in how they write April.
    "gulf_hamza": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "gulf_plain": ["يناير", "فبراير", "مارس", "ابريل", "مايو", "يونيو", "يوليو", "اغسطس", "سبتمبر", "اكتوبر", "نوفمبر", "ديسمبر"],
    "gulf_kasra": ["يناير", "فبراير", "مارس", "إبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "levant": ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"],
    "algeria": ["جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية", "أوت", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "morocco": ["يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر"],
}  # fmt: skip
INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def month(d: datetime, style: str) -> str:
    return MONTHS[style][d.month - 1]


def weekday(d: datetime) -> str:
    return WEEKDAYS[d.weekday()]


def ampm(d: datetime) -> str:
    """12-hour clock with ص (morning) / م (evening), as Gulf sites print it."""
    h = d.hour % 12 or 12
    return f"{h}:{d.minute:02d} {'ص' if d.hour < 12 else 'م'}"


def indic(s: str) -> str:
    return s.translate(INDIC)


# --------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------
@dataclass
class Site:
    name: str
    title: str
    tz: ZoneInfo
    cfg: dict
    articles: list[Art] = field(default_factory=list)


@dataclass
class Art:
    site: Site
    key: str
    path: str
    title: str
    section: str | None
    author: str | None
    published: datetime
    precision: str
    paragraphs: list[str]
    story: str | None
    same_event: str | None
    x: dict

    @property
    def url_path(self) -> str:
        return quote(self.path, safe="/-_.~")

    @property
    def url(self) -> str:
        return BASE + self.url_path

    @property
    def iso(self) -> str:
        return self.published.isoformat()


@dataclass
class Page:
    path: str  # decoded URL path
    html: str
    is_article: bool
    title: str
    paragraphs: list[str] = field(default_factory=list)
    published: str | None = None
    precision: str | None = None
    author: str | None = None
    section: str | None = None
    encoding: str = "utf-8"
    bom: bool = False
    story: str | None = None
    same_event: str | None = None
    boilerplate: list[str] = field(default_factory=list)
    old_layout: bool = False


def parse_date(value: str, tz: ZoneInfo) -> tuple[datetime, str]:
    fmt, precision = {
        10: ("%Y-%m-%d", "day"),
        16: ("%Y-%m-%d %H:%M", "minute"),
        19: ("%Y-%m-%d %H:%M:%S", "second"),
    }[len(value)]
    return datetime.strptime(value, fmt).replace(tzinfo=tz), precision


def load_sites() -> list[Site]:
    with (HERE / "sources.toml").open("rb") as fh:
        registry = {s["name"]: s for s in tomllib.load(fh)["sources"]}
    sites = []
    for name in SITE_ORDER:
        cfg = registry[name]
        site = Site(name, cfg["title"], ZoneInfo(cfg["timezone"]), cfg)
        module = importlib.import_module(f"content.{name}")
        for raw in module.ARTICLES:
            raw = dict(raw)
            body = raw.pop("body")
            paragraphs = (
                [p.strip() for p in body.split("\n\n") if p.strip()]
                if isinstance(body, str)
                else list(body)
            )
            published, precision = parse_date(raw.pop("published"), site.tz)
            site.articles.append(
                Art(
                    site=site,
                    key=raw.pop("key"),
                    path=raw.pop("path"),
                    title=raw.pop("title"),
                    section=raw.pop("section", None),
                    author=raw.pop("author", None),
                    published=published,
                    precision=precision,
                    paragraphs=paragraphs,
                    story=raw.pop("story", None),
                    same_event=raw.pop("same_event", None),
                    x=raw,
                )
            )
        site.articles.sort(key=lambda a: a.published, reverse=True)
        sites.append(site)
    return sites


# --------------------------------------------------------------------------------------
# Small HTML helpers
# --------------------------------------------------------------------------------------
def e(s: str) -> str:
    return html.escape(s, quote=True)


def jsonld(obj: dict) -> str:
    return (
        '<script type="application/ld+json">'
        + json.dumps(obj, ensure_ascii=False).replace("</", "<\\/")
        + "</script>"
    )


def paras_html(paragraphs: list[str], inline: dict[int, str] | None = None, tag: str = "p") -> str:
    """Body paragraphs, with optional blocks (read-also boxes, ads) after paragraph i."""
    inline = inline or {}
    out = []
    for i, p in enumerate(paragraphs):
        out.append(f"<{tag}>{e(p)}</{tag}>")
        if i in inline:
            out.append(inline[i])
    return "\n".join(out)


def after(paragraphs: list[str], n: int) -> int:
    """Index after which an inline block goes: paragraph n, or the last but one."""
    return max(0, min(n, len(paragraphs) - 2))


def others(a: Art, k: int = 3) -> list[Art]:
    return [o for o in a.site.articles if o is not a][:k]


def og(a: Art, site_title: str, title: str, desc: str, image: str) -> str:
    return f"""<meta property="og:type" content="article">
<meta property="og:site_name" content="{e(site_title)}">
<meta property="og:title" content="{e(title)}">
<meta property="og:description" content="{e(desc)}">
<meta property="og:url" content="{a.url}">
<meta property="og:image" content="{BASE}{image}">
<meta name="twitter:card" content="summary_large_image">
<link rel="canonical" href="{a.url}">"""


def lead(a: Art, n: int = 150) -> str:
    text = a.paragraphs[0]
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + "…"


def news_article_ld(a: Art, publisher: str, logo: str, with_time: bool = True) -> dict:
    obj = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "mainEntityOfPage": {"@type": "WebPage", "@id": a.url},
        "datePublished": a.iso if with_time else a.published.date().isoformat(),
        "dateModified": a.iso,
        "articleSection": a.section,
        "inLanguage": "ar",
        "image": [f"{BASE}/images/{a.key}.jpg"],
        "publisher": {
            "@type": "Organization",
            "name": publisher,
            "logo": {"@type": "ImageObject", "url": BASE + logo},
        },
    }
    if a.author:
        obj["author"] = {"@type": "Person", "name": a.author}
    else:
        obj["author"] = {"@type": "Organization", "name": publisher}
    return obj


# --------------------------------------------------------------------------------------
# Layouts: one class per site. Each renders article, listing, and other pages.
# --------------------------------------------------------------------------------------
class Layout:
    site: Site
    today: datetime
    copyright: str = ""

    def __init__(self, site: Site) -> None:
        self.site = site

    def page(self, title: str, body: str, head: str = "", charset: str | None = "utf-8") -> str:
        raise NotImplementedError

    def article(self, a: Art) -> tuple[str, list[str]]:
        raise NotImplementedError

    def listing_item(self, a: Art) -> str:
        return (
            f'<li class="item"><a href="{a.url}">{e(a.title)}</a> '
            f'<span class="date">{a.published:%Y/%m/%d}</span></li>'
        )

    def listing(
        self, title: str, path: str, items: list, page: int, pages: int, page_url
    ) -> tuple[str, list[str]]:
        lis = "\n".join(
            self.listing_item(i) if isinstance(i, Art) else self.media_item(i) for i in items
        )
        prev_link = next_link = ""
        head = f'<link rel="canonical" href="{BASE}{quote(path)}">'
        if page < pages:
            next_link = f'<a class="next" href="{page_url(page + 1)}">التالي</a>'
            head += f'\n<link rel="next" href="{page_url(page + 1)}">'
        if page > 1:
            prev_link = f'<a class="prev" href="{page_url(page - 1)}">السابق</a>'
            head += f'\n<link rel="prev" href="{page_url(page - 1)}">'
        body = f"""<section class="section-page">
<h1 class="section-title">{e(title)}</h1>
<ul class="section-list">
{lis}
</ul>
<nav class="pager">{prev_link} <span>صفحة {page} من {pages}</span> {next_link}</nav>
</section>"""
        full_title = title if page == 1 else f"{title} - صفحة {page}"
        return self.page(full_title, body, head), [self.copyright]

    def media_item(self, m: dict) -> str:
        return f'<li class="item video"><a href="{BASE}{m["path"]}">▶ {e(m["title"])}</a></li>'

    def video(self, m: dict) -> tuple[str, list[str]]:
        body = f"""<div class="video-page">
<h1>{e(m["title"])}</h1>
<div class="player" data-src="{BASE}/media/{m["key"]}.m3u8">
<video controls preload="none" poster="{BASE}/images/{m["key"]}.jpg"><source src="{BASE}/media/{m["key"]}.mp4" type="video/mp4"></video>
</div>
<p class="video-caption">{e(m["caption"])}</p>
<div class="share">مشاركة: <a href="#">فيسبوك</a> <a href="#">إكس</a> <a href="#">واتساب</a></div>
</div>"""
        return self.page(m["title"], body, '<meta property="og:type" content="video.other">'), [
            self.copyright
        ]

    def tag(self, m: dict, items: list[Art]) -> tuple[str, list[str]]:
        lis = "\n".join(self.listing_item(a) for a in items)
        body = f"""<div class="tag-page">
<h1>وسم: {e(m["label"])}</h1>
<p class="tag-desc">كل الأخبار والتقارير المتعلقة بـ{e(m["label"])}</p>
<ul class="tag-list">
{lis}
</ul>
</div>"""
        return self.page(f"{m['label']} - أرشيف", body), [self.copyright]

    def home(self, items: list) -> tuple[str, list[str]]:
        return self.listing(f"الرئيسية - {self.site.title}", "/", items, 1, 1, lambda n: "")

    def search(self) -> str:
        body = f"""<div class="search-page"><h1>نتائج البحث</h1>
<form action="{BASE}/search" method="get"><input name="q" type="search"><button>بحث</button></form>
<ul>{"".join(self.listing_item(a) for a in self.site.articles[:3])}</ul></div>"""
        return self.page("بحث", body, '<meta name="robots" content="noindex">')


# ---- 1. Syriandays: table-era PHP portal, ticker of exchange rates, no structured data --
class SyriandaysLayout(Layout):
    copyright = "جميع الحقوق محفوظة لموقع سيريانديز سياسة © 2024"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        meta = (
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            if charset == "utf-8"
            else f'<meta charset="{charset}">'
        )
        return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" dir="rtl" lang="ar">
<head>
{meta}
<title>سيريانديز - {e(title)}</title>
<meta name="keywords" content="سيريانديز,سورية,أخبار,اقتصاد,دمشق">
<link rel="stylesheet" type="text/css" href="{BASE}/css/style.css">
<link rel="alternate" type="application/rss+xml" title="سيريانديز RSS" href="{BASE}/rss/rss.xml">
<script type="text/javascript" src="{BASE}/js/jquery-1.7.2.min.js"></script>
{head}
</head>
<body>
<table id="wrapper" width="980" align="center" cellpadding="0" cellspacing="0">
<tr><td id="top">
<div class="logo"><a href="{BASE}/"><img src="{BASE}/images/logo.gif" alt="سيريانديز"></a></div>
<div class="ticker">أسعار العملات: الدولار 13900 ليرة - اليورو 15100 ليرة - غرام الذهب عيار 21: 975000 ليرة</div>
<div class="topdate">{weekday(self.today)} {self.today:%Y-%m-%d}</div>
<form class="searchbox" action="{BASE}/search/" method="get"><input type="text" name="q" value="بحث..."><input type="submit" value="بحث"></form>
</td></tr>
<tr><td id="menu">
<a href="{BASE}/">الرئيسية</a> | <a href="{BASE}/news/category/8/">عربي ودولي</a> | <a href="{BASE}/news/category/13/">اقتصاد</a> | <a href="{BASE}/news/category/8/">رياضة</a> | <a href="{BASE}/news/category/8/">ثقافة وفن</a> | <a href="{BASE}/search/?q=%D8%A7%D9%84%D8%A3%D8%B1%D8%B4%D9%8A%D9%81">الأرشيف</a>
</td></tr>
<tr><td id="content">
{body}
</td></tr>
<tr><td id="footer">
<div class="footlinks"><a href="{BASE}/">من نحن</a> - <a href="{BASE}/">اتصل بنا</a> - <a href="{BASE}/rss/rss.xml">RSS</a></div>
<div class="copy">ٍ {self.copyright}</div>
</td></tr>
</table>
<script type="text/javascript">var _gaq = _gaq || []; _gaq.push(['_setAccount', 'UA-1234567-1']); _gaq.push(['_trackPageview']);</script>
</body>
</html>
"""

    # The older article template: everything in nested tables, a top bar with the render
    # date and the site's links, the byline slot, a reader poll, a comment-policy notice,
    # readers' comments (names, places, dates) and the comment form, all in the cell that
    # holds the article.
    POLL = (
        "استطلاع الرأي",
        "هل تتوقع تحسن الوضع المعيشي خلال الأشهر المقبلة؟",
        ["نعم، بشكل ملحوظ", "لا، سيبقى كما هو", "لا أعرف"],
    )
    COMMENT_NOTICE = "الآراء الواردة أدناه لا تعبر عن رأي الموقع وإنما عن رأي أصحابها"
    COMMENTS = {
        "jasmine": [
            (
                "أبو سامر الدمشقي",
                "دمشق",
                "2024-06-04",
                "نتمنى أن يستمر المهرجان كل عام فهو متنفس حقيقي للعائلات",
            ),
            ("ريم", "حمص", "2024-06-04", "متى تبدأ الفعاليات في حمص؟ لم نسمع بأي موعد حتى الآن"),
        ],
        "tanker": [
            ("مهندس بحري", "طرطوس", "2024-06-03", "الكلفة في النهاية يدفعها المستهلك كالعادة"),
            ("خالد العلي", "اللاذقية", "2024-06-04", "تحليل جيد، لكن ماذا عن الموانئ السورية؟"),
        ],
        "citrus": [
            ("فلاح من جبلة", "جبلة", "2024-06-01", "الكلام نفسه يتكرر كل موسم ولا أحد يسمع"),
            ("أم علي", "طرطوس", "2024-06-02", "الليمون عندنا يباع بأرخص من كلفة الصناديق"),
        ],
    }

    def top_bar(self) -> str:
        today = f"{weekday(self.today)}، {self.today.day} {month(self.today, 'levant')} {self.today.year}"
        return f"""<table width="100%" cellpadding="2" cellspacing="0" class="topbar"><tr>
<td class="today" width="30%">{today}</td>
<td class="toplinks" align="left"><a href="{BASE}/">من نحن</a> | <a href="{BASE}/">اتصل بنا</a> | <a href="{BASE}/">أعلن معنا</a> | <a href="{BASE}/rss/rss.xml">RSS</a></td>
</tr></table>"""

    def old_article(self, a):
        today = f"{weekday(self.today)}، {self.today.day} {month(self.today, 'levant')} {self.today.year}"
        cat = f'<a href="{BASE}/news/category/{a.x.get("category", 8)}/">{e(a.section or "")}</a>'
        slot = a.x["byline_slot"]
        if slot == "section":  # the template fills the empty author slot with the section
            writer, cat_line = f'<span class="writer">{cat}</span>', ""
        else:
            writer, cat_line = (
                f'<span class="writer">{e(slot)}</span>',
                f'<div class="news_cat">{cat}</div>',
            )
        when = f"{weekday(a.published)} {a.published:%Y-%m-%d %H:%M:%S}"
        poll_title, question, options = self.POLL
        option_rows = "\n".join(
            f'<tr><td class="poll_opt"><input type="radio" name="vote" value="{i}" id="v{i}"><label for="v{i}">{e(o)}</label></td></tr>'
            for i, o in enumerate(options, start=1)
        )
        comments = self.COMMENTS[a.key]
        if a.key == "tanker":  # microdata comments: itemprop="author" inside a Comment
            comment_rows = "\n".join(
                f'<tr itemprop="comment" itemscope itemtype="http://schema.org/Comment"><td class="c_head"><b itemprop="author">{e(n)}</b> ({e(place)}) <span class="c_date">{d}</span></td></tr>'
                f'<tr><td class="c_body" itemprop="text">{e(t)}</td></tr>'
                for n, place, d, t in comments
            )
        else:
            comment_rows = "\n".join(
                f'<tr><td class="comm_name"><span class="comment_author">{e(n)}</span> - {e(place)}</td><td class="comm_date">{d}</td></tr>'
                f'<tr><td colspan="2" class="comm_text">{e(t)}</td></tr>'
                for n, place, d, t in comments
            )
        rel = others(a, 3)
        side = "\n".join(
            f'<tr><td class="more"><a href="{o.url}">{e(o.title)}</a></td></tr>' for o in rel
        )
        body = f"""<table width="100%" cellpadding="0" cellspacing="0" border="0">
<tr><td colspan="2">{self.top_bar()}</td></tr>
<tr><td valign="top" class="news_col">
<table width="100%" cellpadding="4" cellspacing="0">
<tr><td class="news_head">{cat_line}<h1 class="news_title">{e(a.title)}</h1>
<div class="news_info">{writer} | <span class="news_date">{when}</span></div></td></tr>
<tr><td class="news_text">
{paras_html(a.paragraphs)}
</td></tr>
<tr><td class="print"><a href="javascript:window.print()">طباعة</a> | <a href="#">أرسل لصديق</a></td></tr>
</table>
<table width="100%" cellpadding="3" cellspacing="0" class="poll">
<tr><td class="poll_title">{poll_title}</td></tr>
<tr><td class="poll_q">{e(question)}</td></tr>
{option_rows}
<tr><td><input type="submit" value="تصويت"> <a href="#">عرض النتائج</a></td></tr>
</table>
<table width="100%" cellpadding="3" cellspacing="0" class="tbl_comm">
<tr><td colspan="2" class="comm_note">{self.COMMENT_NOTICE}</td></tr>
{comment_rows}
</table>
<form action="{BASE}/comment.php" method="post"><table class="comm_form">
<tr><td>الاسم:</td><td><input type="text" name="name"></td></tr>
<tr><td>البلد:</td><td><input type="text" name="country"></td></tr>
<tr><td>نص التعليق:</td><td><textarea name="body"></textarea></td></tr>
<tr><td colspan="2"><input type="submit" value="إرسال"></td></tr>
</table></form>
</td>
<td valign="top" width="200" class="side_col">
<table width="100%"><tr><td class="box_title">الأكثر قراءة</td></tr>
{side}
</table>
</td></tr></table>"""
        html_doc = self.page(a.title, body)
        return html_doc, [
            self.copyright,
            today,
            "من نحن | اتصل بنا | أعلن معنا",
            poll_title,
            question,
            *options,
            "عرض النتائج",
            self.COMMENT_NOTICE,
            *(n for n, _p, _d, _t in comments),
            *(t for _n, _p, _d, t in comments),
            "نص التعليق",
            *([slot] if slot != "section" and a.author is None else []),
        ]

    def article(self, a):
        cat_label = a.section or ""
        when = f"{weekday(a.published)} {a.published:%Y-%m-%d %H:%M:%S}"
        if a.x.get("old_layout"):
            return self.old_article(a)
        rel = others(a, 4)
        inline = {
            after(
                a.paragraphs, 3
            ): f'<div class="readmore"><b>اقرأ أيضاً:</b> <a href="{rel[0].url}">{e(rel[0].title)}</a></div>'
        }
        dek = f'<h3 class="subtitle">{e(a.x["dek"])}</h3>' if a.x.get("dek") else ""
        author = f'<div class="writer">بقلم: {e(a.author)}</div>' if a.author else ""
        side = "\n".join(
            f'<tr><td class="more"><a href="{o.url}">{e(o.title)}</a><br><span>{o.published:%Y-%m-%d}</span></td></tr>'
            for o in rel[1:]
        )
        body = f"""<table width="100%"><tr>
<td valign="top" id="main">
<div class="details_date">{when} <a href="{BASE}/news/category/{a.x.get("category", 8)}/">{e(cat_label)}</a></div>
<h1 class="details_title">{e(a.title)}</h1>
{dek}
{author}
<div class="details_img"><img src="{BASE}/images/news/{a.path.rsplit("/", 1)[-1].split(".")[0]}.jpg" alt=""></div>
<div class="details_text">
{paras_html(a.paragraphs, inline)}
</div>
<div class="print"><a href="javascript:window.print()">طباعة</a> | <a href="#">أرسل لصديق</a> | مشاركة: <a href="#">فيسبوك</a> <a href="#">تويتر</a></div>
<div class="comments_note">التعليقات المنشورة لا تعبر بالضرورة عن رأي الموقع</div>
</td>
<td valign="top" width="260" id="side">
<div class="box_title">الأكثر قراءة</div>
<table>{side}</table>
<div class="box_title">مواقيت الصلاة - دمشق</div>
<div class="prayer">الفجر 4:08 الظهر 12:37 العصر 4:19 المغرب 7:57 العشاء 9:25</div>
</td></tr></table>"""
        charset = a.x.get("encoding", "utf-8")
        html_doc = self.page(a.title, body, charset=charset)
        return html_doc, [
            self.copyright,
            rel[0].title,
            "التعليقات المنشورة لا تعبر بالضرورة عن رأي الموقع",
            "أسعار العملات: الدولار 13900 ليرة",
        ]


# ---- 2. Erem News: Next.js app, JSON-LD, title glued to itself by a broken template ---
class EremLayout(Layout):
    copyright = "www.eremnews.com"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} | إرم نيوز</title>
<link rel="preload" href="{BASE}/_next/static/css/app.css" as="style">
<link rel="stylesheet" href="{BASE}/_next/static/css/app.css">
{head}
<script async src="{BASE}/_next/static/chunks/gpt.js"></script>
</head><body class="rtl theme-light">
<div id="__next">
<header class="site-header"><div class="header-top">
<a class="logo" href="{BASE}/" aria-label="إرم نيوز"><svg viewBox="0 0 120 40"><title>إرم نيوز</title></svg></a>
<div class="weather-widget" data-city="dubai"><span class="city">دبي</span> <span class="temp">41°</span> <span class="desc">مشمس</span></div>
<a class="search-btn" href="{BASE}/search?q=">بحث</a>
</div>
<nav class="main-nav"><ul>
<li><a href="{BASE}/news/world">العالم</a></li><li><a href="{BASE}/news/arab-world">العالم العربي</a></li><li><a href="{BASE}/economy">اقتصاد</a></li><li><a href="{BASE}/sports">رياضة</a></li><li><a href="{BASE}/news/tech">تكنولوجيا</a></li><li><a href="{BASE}/health">صحة</a></li><li><a href="{BASE}/video">فيديو</a></li>
</ul></nav></header>
<main class="main-content">
{body}
</main>
<footer class="site-footer"><div class="footer-logo"><img src="{BASE}/static/logo-white.svg" alt="logo"></div>
<p class="footer-name">إرم نيوز</p>
<p class="footer-url">{self.copyright}</p>
<ul class="footer-links"><li><a href="{BASE}/about">من نحن</a></li><li><a href="{BASE}/privacy">سياسة الخصوصية</a></li></ul>
</footer>
<div class="cookie-consent" role="dialog"><p>نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا. باستمرارك في التصفح فإنك توافق على ذلك.</p><button>موافق</button></div>
</div>
<script id="__NEXT_DATA__" type="application/json">{{"props":{{"pageProps":{{"title":{json.dumps(title, ensure_ascii=False)}}}}},"page":"/[...slug]","buildId":"k2Jq8xYw"}}</script>
</body></html>
"""

    def article(self, a):
        rel = others(a, 3)
        head = og(a, "إرم نيوز", f"{a.title} | إرم نيوز", lead(a), f"/images/{a.key}.jpg")
        head += f'\n<meta property="article:published_time" content="{a.iso}">'
        head += "\n" + jsonld(news_article_ld(a, "إرم نيوز", "/static/logo.png"))
        if a.author:
            head += f'\n<meta name="author" content="{e(a.author)}">'
        byline = (
            f'<a class="author-name" href="{BASE}/author/{a.key}">{e(a.author)}</a>'
            if a.author
            else '<span class="author-name">إرم نيوز</span>'
        )
        # The live template prints the headline in a hidden breadcrumb and a share label
        # with no space between them, then again as the h1 (seed 001).
        glued = f'<div class="crumb-title"><span>{e(a.title)}</span><span>{e(a.title)}</span></div>'
        inline = {
            after(
                a.paragraphs, 2
            ): f'<aside class="related-inline"><span class="label">اقرأ أيضاً</span><a href="{rel[0].url}">{e(rel[0].title)}</a></aside>'
        }
        related = "\n".join(
            f'<article class="card"><a href="{o.url}"><h3>{e(o.title)}</h3></a><time datetime="{o.iso}">{o.published.day} {month(o.published, "gulf_hamza")} {o.published.year}</time></article>'
            for o in rel
        )
        tags = (
            f'<div class="tags"><a href="{BASE}/tag/syria">سوريا</a></div>'
            if "سوريا" in a.title
            else ""
        )
        body = f"""<div class="article-page">
<div class="breadcrumb"><a href="{BASE}/">الرئيسية</a> › <a href="{BASE}/news/world">{e(a.section or "")}</a></div>
<div class="article-head">
<p class="kicker">{e(a.title)}</p>
{glued}
<h1 class="article-title">{e(a.title)}</h1>
<div class="meta">{byline}<span class="date">نُشر: {a.published.day} {month(a.published, "gulf_hamza")} {a.published.year}، {ampm(a.published)}</span></div>
</div>
<figure class="main-img"><img src="{BASE}/images/{a.key}.jpg" alt="{e(a.title)}"><figcaption>المصدر: رويترز</figcaption></figure>
<div class="share-bar">مشاركة <a href="#">فيسبوك</a><a href="#">إكس</a><a href="#">واتساب</a><a href="#">تلغرام</a></div>
<div class="article-body" id="article-body">
{paras_html(a.paragraphs, inline)}
</div>
{tags}
<section class="most-read"><h2>الأكثر قراءة</h2><p class="empty">No stories found.</p></section>
<section class="related"><h2>مواضيع ذات صلة</h2>
{related}
</section>
<div class="newsletter"><h3>النشرة البريدية</h3><p>اشترك في نشرتنا اليومية لتصلك أهم الأخبار</p><input type="email" placeholder="بريدك الإلكتروني"></div>
</div>"""
        return self.page(a.title, body, head), [
            "No stories found.",
            "نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا.",
            "اشترك في نشرتنا اليومية لتصلك أهم الأخبار",
            rel[0].title,
        ]


# ---- 3. Al Ittihad: today's date and prayer times on top, date only in text ----------
class IttihadLayout(Layout):
    copyright = "جميع الحقوق محفوظة لمركز الاتحاد للأخبار 2024©"
    today = datetime(2024, 4, 24)

    def page(self, title, body, head="", charset="utf-8"):
        meta = f'<meta charset="{charset}">' if charset else ""
        return f"""<!doctype html>
<html lang="ar" dir="rtl">
<head>
{meta}
<title>{e(title)} - صحيفة الاتحاد</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link href="{BASE}/assets/css/main.min.css" rel="stylesheet">
{head}
</head>
<body>
<div class="top-strip">
<span class="today">{weekday(self.today)} {self.today.day} {month(self.today, "gulf_plain")} {self.today.year}</span>
<span class="loc">أبوظبي الإمارات</span>
<div class="prayer-times"><b>مواقيت الصلاة</b><ul><li>الفجر 04:31</li><li>الظهر 12:19</li><li>العصر 15:46</li><li>المغرب 18:51</li><li>العشاء 20:08</li></ul></div>
</div>
<header class="masthead"><a href="{BASE}/"><img src="{BASE}/assets/img/alittihad-logo.svg" alt="الاتحاد"></a>
<ul class="quick"><li><a href="{BASE}/">أبرز الأخبار</a></li><li><a href="{BASE}/">عدد اليوم</a></li><li><a href="{BASE}/">عدد اليوم</a></li><li><a href="{BASE}/search?q=">بحث</a></li></ul>
</header>
<nav class="sections"><a href="{BASE}/section/world-news/">الأخبار العالمية</a><a href="{BASE}/section/uae/">الإمارات</a><a href="{BASE}/section/economy/">اقتصاد</a><a href="{BASE}/section/culture/">ثقافة</a><a href="{BASE}/section/sport/">الرياضة</a></nav>
<div class="container">
{body}
</div>
<footer class="foot"><div class="apps">حمل تطبيق الاتحاد</div><p class="rights">{self.copyright}</p></footer>
<script src="{BASE}/assets/js/app.min.js" defer></script>
</body>
</html>
"""

    def article(self, a):
        rel = others(a, 3)
        head = og(a, "الاتحاد", a.title, lead(a), f"/uploads/{a.key}.jpg")
        head += f'\n<meta name="description" content="{e(lead(a))}">'
        when = f"{a.published.day} {month(a.published, 'gulf_plain')} {a.published.year} {a.published:%H:%M}"
        byline = ""
        if a.author:
            byline = f'<div class="writer"><a href="{BASE}/author/{a.key}">{e(a.author)}</a> ({e(a.x.get("author_city", "أبوظبي"))})</div>'
        more = "\n".join(
            f'<div class="mini"><a href="{o.url}">{e(o.title)}</a><small>{o.published.day} {month(o.published, "gulf_plain")} {o.published.year} {o.published:%H:%M}</small></div>'
            for o in rel
        )
        tags = (
            f'<div class="keywords">الكلمات الدالة: <a href="{BASE}/tags/russia">روسيا</a></div>'
            if a.key == "seed002"
            else ""
        )
        body = f"""<div class="row">
<div class="col-main">
<div class="section-name"><a href="{BASE}/section/world-news/">{e(a.section or "")}</a></div>
<div class="article-title-box"><h2 class="hidden-title">{e(a.title)}</h2></div>
<article class="story">
<h1>{e(a.title)}</h1>
<div class="story-date">{when}</div>
{byline}
<div class="pic"><img src="{BASE}/uploads/{a.key}.jpg" alt=""></div>
<div class="story-text">
{paras_html(a.paragraphs)}
</div>
{tags}
<div class="share-tools"><span>مشاركة</span> <a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">واتساب</a></div>
</article>
<div class="newsletter-box"><h4>اشترك في النشرة الإخبارية</h4><p>احصل على أهم أخبار الاتحاد يومياً في بريدك</p></div>
</div>
<aside class="col-side">
<h3>الأكثر قراءة</h3>
{more}
</aside>
</div>"""
        charset = "utf-8" if a.x.get("encoding") is None else None  # header-only charset page
        return self.page(a.title, body, head, charset), [
            self.copyright,
            "احصل على أهم أخبار الاتحاد يومياً في بريدك",
            "مواقيت الصلاة",
            f"{weekday(self.today)} {self.today.day} {month(self.today, 'gulf_plain')} {self.today.year}",
        ]


# ---- 4. Al Jazeera Net: Arabic slugs, Hijri + Gregorian, «حول هذه القصة» ---------------
SEED003_ABOUT = [
    (
        "U.N. Special Envoy of the Secretary-General for Syria Staffan de Mistura arrives to take part at a round of negotiations between the representatives of the Internal Damascus Platform and U.N., at the European headquarters of the United Nations in Geneva, Switzerland, March 23, 2016. REUTERS/Martial Trezzini/Pool",
        "قال نشطاء ودبلوماسيون إن المبعوث الأممي لسوريا يضع اللمسات النهائية على وثيقة لرؤى المشاركين لحل الأزمة، بينما يُتوقع أن يمارس وزير الخارجية الأميركي ضغوطا على موسكو بشأن مستقبل الرئيس السوري.",
        "24/3/2016",
    ),
    (
        "A ground crew member reports to pilots that their Sukhoi Su-30 fighter jet is ready for a combat mission at Hmeymim air base near Latakia, Syria, in this handout photograph released by Russia's Defence Ministry, October 22, 2015. REUTERS/Ministry of Defence of the Russian Federation/Handout via Reuters",
        "أقرت روسيا للمرة الأولى بوجود قوات خاصة روسية في سوريا لمساعدة الطيران الروسي على شن الغارات والتدريب، مجددة التأكيد على إبقاء جزء من قواتها في الساحل السوري.",
        "23/3/2016",
    ),
    (
        "Syrian chief negotiator Bashar al-Jaafari, (C), Ambassador of the Permanent Representative Mission of the Syria to UN New York, attends a new round of negotiations between the Syrian government and UN Special Envoy of the Secretary-General for Syria Staffan de Mistura (not pictured), at the European headquarters of the United Nations in Geneva, Switzerland, 23 March 2016.",
        "أعلن وفد النظام السوري أنه تلقى ورقة من دي ميستورا وسيرد عليها الشهر المقبل، مستبعدا أن يتعرض لضغوط روسية لتغيير موقفه، وذلك قبيل ساعات من لقاء مرتقب بين لافروف وكيري.",
        "23/3/2016",
    ),
]


class JazeeraLayout(Layout):
    copyright = "© 2024 شبكة الجزيرة الإعلامية"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl" class="no-js">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} | الجزيرة نت</title>
<link rel="alternate" type="application/atom+xml" href="{BASE}/feeds/atom.atom">
<link rel="stylesheet" href="{BASE}/wp-content/themes/aj/style.css">
{head}
<script>window.dataLayer = window.dataLayer || [];</script>
</head>
<body class="ltr-fix">
<div class="site-header__wrapper">
<header class="site-header">
<a class="site-logo" href="{BASE}/"><span class="screen-reader-text">الجزيرة نت</span></a>
<ul class="menu header-menu"><li><a href="{BASE}/news/">أخبار</a></li><li><a href="{BASE}/politics/">سياسة</a></li><li><a href="{BASE}/ebusiness/">اقتصاد</a></li><li><a href="{BASE}/sport/">رياضة</a></li><li><a href="{BASE}/health/">صحة</a></li><li><a href="{BASE}/video/">فيديو</a></li></ul>
<a class="search-link" href="{BASE}/search/">بحث</a>
<a class="live-link" href="{BASE}/live/">شاهد البث المباشر</a>
</header></div>
<div id="root" class="container--with-sidebar">
{body}
</div>
<footer class="site-footer"><div class="footer-menu"><a href="{BASE}/about/">من نحن</a><a href="{BASE}/privacy/">سياسة الخصوصية</a><a href="{BASE}/terms/">شروط الاستخدام</a></div>
<p class="site-footer__copyright">{self.copyright}</p></footer>
<div class="cookie-banner"><p>يستخدم موقع الجزيرة ملفات تعريف الارتباط لتقديم تجربة أفضل. بالاستمرار في التصفح، فإنك توافق على سياسة ملفات تعريف الارتباط.</p></div>
</body>
</html>
"""

    def article(self, a):
        rel = others(a, 3)
        head = og(a, "الجزيرة نت", a.title, lead(a), f"/wp-content/uploads/{a.key}.jpg")
        head += f'\n<meta name="publishedDate" content="{a.iso}">'
        if a.author:
            head += f'\n<meta name="author" content="{e(a.author)}">'
        head += "\n" + jsonld(news_article_ld(a, "الجزيرة نت", "/images/aj-logo.png"))
        p = a.published
        date_line = (
            f'<div class="date-simple"><span class="screen-reader-text">نشر في </span>'
            f"{p.day}/{p.month}/{p.year}</div>"
            f'<div class="article-dates">{weekday(p)} {a.x["hijri"]} هـ - الموافق {p.day}/{p.month}/{p.year} م (آخر تحديث) الساعة {p:%H:%M} (مكة المكرمة)</div>'
        )
        fig = ""
        if a.x.get("caption"):
            fig = f"""<figure class="article-featured-image"><div class="responsive-image"><img src="{BASE}/wp-content/uploads/{a.key}.jpg" alt="{e(a.x.get("caption_en", ""))}"></div>
<figcaption><p class="image-alt-en">{e(a.x.get("caption_en", ""))}</p><span class="caption">{e(a.x["caption"])}</span></figcaption></figure>"""
        if a.key == "seed003":
            about = [
                (cap, summary, date, rel[i % len(rel)].url)
                for i, (cap, summary, date) in enumerate(SEED003_ABOUT)
            ]
        else:
            about = [
                (
                    o.x.get("caption_en") or "FILE PHOTO: A general view of the city. REUTERS",
                    o.title,
                    f"{o.published.day}/{o.published.month}/{o.published.year}",
                    o.url,
                )
                for o in rel
            ]
        about_html = "\n".join(
            f'<article class="gc gc--type-post"><div class="gc__image-wrap"><img alt="{e(cap)}" src="{BASE}/images/t{i}.jpg"><p class="alt">{e(cap)}</p></div>'
            f'<div class="gc__content"><a class="u-clickable-card__link" href="{url}"><p class="gc__excerpt">{e(summary)}</p></a>'
            f'<div class="gc__date"><span class="screen-reader-text">Published On {date}</span><span aria-hidden="true">Published On {date}</span></div></div></article>'
            for i, (cap, summary, date, url) in enumerate(about)
        )
        body = f"""<main id="main-content-area" class="article-main">
<header class="article-header">
<div class="topics"><a href="{BASE}/tag/syria/">{e(a.x.get("topic", a.section or ""))}</a></div>
<h1>{e(a.title)}</h1>
{date_line}
</header>
{fig}
{f'<div class="article-info-block"><div class="article-author">{e(a.author)}</div></div>' if a.author else ""}
<div class="wysiwyg wysiwyg--all-content">
{paras_html(a.paragraphs)}
</div>
<p class="article-source">{e(a.x.get("source_line", "المصدر : الجزيرة"))}</p>
<div class="article-share"><span>مشاركة</span><a href="#">facebook</a><a href="#">x</a><a href="#">whatsapp</a></div>
<section class="more-on"><h2>حول هذه القصة</h2>
{about_html}
</section>
<div class="more-link"><a href="{BASE}/tag/syria/">المزيد من {e(a.x.get("topic", "أخبار"))}</a></div>
</main>
<aside class="sidebar"><h2>الأكثر قراءة</h2><ol>{"".join(f'<li><a href="{o.url}">{e(o.title)}</a></li>' for o in rel)}</ol>
<div class="newsletter-signup"><h3>النشرة البريدية</h3><p>اشترك في النشرة البريدية للجزيرة نت لتصلك أهم الأخبار</p></div></aside>"""
        bp = [
            a.x.get("source_line", "المصدر : الجزيرة"),
            "حول هذه القصة",
            self.copyright,
            "اشترك في النشرة البريدية للجزيرة نت لتصلك أهم الأخبار",
        ]
        if a.x.get("caption"):
            bp.append(a.x["caption"])
        if a.key == "seed003":
            bp.append("Published On 23/3/2016")
        return self.page(a.title, body, head), bp


# ---- 5. Shaam Network: Arabic-Indic date, body printed twice, «المصدر: ... الكاتب:» ---
class ShaamLayout(Layout):
    copyright = "جميع الحقوق محفوظة لشبكة شام الإخبارية © 2024"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        return f"""<!DOCTYPE html>
<html dir="rtl" lang="ar">
<head>
<meta charset="UTF-8">
<title>شبكة شام - {e(title)}</title>
<link rel="alternate" type="application/atom+xml" title="شبكة شام" href="{BASE}/feed/atom.xml">
<link rel="stylesheet" href="{BASE}/themes/shaam/css/bootstrap-rtl.min.css">
{head}
</head>
<body>
<div class="navbar navbar-default">
<div class="brand"><a href="{BASE}/"><img src="{BASE}/themes/shaam/img/logo.png" alt="شبكة شام الإخبارية"></a></div>
<ul class="nav navbar-nav"><li><a href="{BASE}/news/syria-news">أخبار سورية</a></li><li><a href="{BASE}/news/syria-news">أخبار دولية</a></li><li><a href="{BASE}/news/economy">اقتصاد</a></li><li><a href="{BASE}/videos">مرئيات</a></li><li><a href="{BASE}/search?q=">بحث</a></li></ul>
<div class="date-today">{indic(f"{self.today.day}")} {month(self.today, "gulf_kasra")} {indic(str(self.today.year))}</div>
</div>
<div class="container main">
{body}
</div>
<div class="footer"><p>{self.copyright}</p><p class="social">تابعونا على: فيسبوك - تلغرام - يوتيوب</p></div>
</body>
</html>
"""

    def article(self, a):
        rel = others(a, 3)
        head = f'<meta name="description" content="{e(lead(a))}">\n<meta property="og:title" content="{e(a.title)}">\n<link rel="canonical" href="{a.url}">'
        d = a.published
        when = indic(f"{d.day}") + f" {month(d, 'gulf_kasra')} " + indic(str(d.year))
        text = "\n".join(f"<p>{e(p)}</p>\n<p>&nbsp;</p>" for p in a.paragraphs)
        if a.x.get("repeat_body"):
            # The live page printed the whole body a second time (seed 004).
            text += "\n" + "\n".join(f"<p>{e(p)}</p>\n<br>" for p in a.paragraphs)
        also = "\n".join(
            f'<li><a href="{o.url}">{e(o.title)}</a> <small>{indic(str(o.published.day))} {month(o.published, "gulf_kasra")} {indic(str(o.published.year))}</small></li>'
            for o in rel
        )
        body = f"""<div class="row"><div class="col-md-8">
<div class="news-head"><h2 class="page-title">{e(a.title)}</h2></div>
<div class="news-title"><h3>{e(a.title)}</h3></div>
<div class="news-meta"><span class="cat">● {e(a.section or "")}</span> <span class="date">{when}</span></div>
<h1 class="news-h1">{e(a.title)}</h1>
<div class="news-image"><img src="{BASE}/uploads/news/{a.key}.jpg" alt=""></div>
<div class="news-details">
{text}
<p>&nbsp;</p>
</div>
<div class="news-source">المصدر: {e(a.x.get("source", "شبكة شام"))} الكاتب: {e(a.author or "")}</div>
<div class="share-box">مشاركة: <a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">تلغرام</a></div>
<div class="read-also"><h4>اقرأ أيضاً:</h4><ul>{also}</ul></div>
<div class="sep">ـــــــ ــ</div>
</div>
<div class="col-md-4"><div class="widget"><h4>مرئيات</h4><a href="{BASE}/videos/idlib-rain-camps-video">فيديو: السيول تجتاح مخيمات إدلب</a></div></div>
</div>"""
        return self.page(a.title, body, head), [
            f"المصدر: {a.x.get('source', 'شبكة شام')} الكاتب: {a.author or ''}",
            self.copyright,
            "تابعونا على: فيسبوك - تلغرام - يوتيوب",
        ]


# ---- 6. SANA: WordPress wire site, <time datetime>, reporter name after the text --------
class SanaLayout(Layout):
    copyright = "© 2024 الوكالة العربية السورية للأنباء - سانا"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        return f"""<!DOCTYPE html>
<html dir="rtl" lang="ar" prefix="og: https://ogp.me/ns#">
<head>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>{e(title)} &#8211; سانا</title>
<link rel="alternate" type="application/rss+xml" title="سانا &raquo; الخلاصة" href="{BASE}/ar/feed.rss" />
<link rel='stylesheet' id='jannah-styles-css' href='{BASE}/ar/wp-content/themes/jannah/assets/css/style.min.css' type='text/css' media='all' />
{head}
</head>
<body id="tie-body" class="post-template-default single single-post rtl">
<div class="background-overlay"><div id="tie-container" class="site tie-container"><div id="tie-wrapper">
<nav id="top-nav" class="top-nav"><div class="topbar-today-date">{weekday(self.today)}, {self.today.day} {month(self.today, "levant")} {self.today.year}</div>
<ul class="top-menu"><li><a href="{BASE}/">الرئيسية</a></li><li><a href="{BASE}/">English</a></li><li><a href="{BASE}/search/?s=">بحث</a></li></ul></nav>
<header id="theme-header" class="theme-header"><div class="logo"><a href="{BASE}/"><img src="{BASE}/ar/wp-content/uploads/sana-logo.png" alt="سانا"></a></div>
<nav id="main-nav"><ul><li><a href="{BASE}/">سياسة</a></li><li><a href="{BASE}/">محليات</a></li><li><a href="{BASE}/">اقتصاد</a></li><li><a href="{BASE}/">ثقافة</a></li><li><a href="{BASE}/">رياضة</a></li><li><a href="{BASE}/">صحة</a></li></ul></nav></header>
<div id="content" class="site-content container">
{body}
</div>
<footer id="footer" class="site-footer"><div class="copyright-text">{self.copyright}</div></footer>
</div></div></div>
<script type='text/javascript' src='{BASE}/ar/wp-includes/js/jquery/jquery.min.js' id='jquery-core-js'></script>
</body>
</html>
"""

    def article(self, a):
        rel = others(a, 4)
        head = og(a, "سانا", a.title, lead(a), f"/ar/wp-content/uploads/{a.key}.jpg")
        head += f'\n<meta property="article:published_time" content="{a.iso}" />\n<meta property="article:section" content="{e(a.section or "")}" />'
        first, rest = a.paragraphs[0].split(" ", 1)
        body_ps = [f"<p><strong>{e(first)}</strong> {e(rest)}</p>"]
        for i, p in enumerate(a.paragraphs[1:], start=1):
            body_ps.append(f"<p>{e(p)}</p>")
            if i == 2:
                body_ps.append(
                    '<div class="post-bottom-meta"><span>تابعوا آخر الأخبار عبر تطبيق تلغرام</span></div>'
                )
        cap = ""
        if a.x.get("caption"):
            cap = f'<figure class="single-featured-image"><img src="{BASE}/ar/wp-content/uploads/{a.key}.jpg" alt=""><figcaption class="single-caption-text">{e(a.x["caption"])}</figcaption></figure>'
        related = "\n".join(
            f'<div class="related-item"><a href="{o.url}" class="post-title">{e(o.title)}</a><span class="date meta-item"><time datetime="{o.iso}">{o.published:%Y-%m-%d}</time></span></div>'
            for o in rel
        )
        body = f"""<div class="main-content-row"><div class="main-content tie-col-md-8">
<article id="the-post" class="container-wrapper post-content">
<header class="entry-header-outer"><nav id="breadcrumb"><a href="{BASE}/">الرئيسية</a><em class="delimiter">/</em><span class="current">{e(a.section or "")}</span></nav>
<div class="entry-header"><span class="post-cat-wrap"><a class="post-cat" href="{BASE}/">{e(a.section or "")}</a></span>
<h1 class="post-title entry-title">{e(a.title)}</h1>
<div class="post-meta"><span class="date meta-item"><time class="entry-date published" datetime="{a.iso}">{a.published:%Y-%m-%d}</time></span></div>
</div></header>
{cap}
<div class="entry-content entry clearfix">
{chr(10).join(body_ps)}
<p class="reporter">{e(a.author or "")}</p>
</div>
<div id="share-buttons-bottom" class="share-buttons">مشاركة <a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">تلغرام</a></div>
</article>
<div id="related-posts" class="container-wrapper"><div class="mag-box-title"><h3>مقالات ذات صلة</h3></div>
{related}
</div></div>
<aside class="sidebar tie-col-md-4"><div class="widget"><h4>حالة الطقس</h4><p>دمشق 31° غائم جزئياً</p></div></aside>
</div>"""
        return self.page(a.title, body, head), [
            "تابعوا آخر الأخبار عبر تطبيق تلغرام",
            self.copyright,
            "مقالات ذات صلة",
            "دمشق 31° غائم جزئياً",
        ]


# ---- 7. Hespress: WordPress + Yoast graph, Moroccan months, comments box ---------------
class HespressLayout(Layout):
    copyright = "© هسبريس 2024 - جميع الحقوق محفوظة"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        return f"""<!doctype html>
<html dir="rtl" lang="ar">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} - هسبريس</title>
<link rel="stylesheet" href="{BASE}/wp-content/themes/hespress/dist/css/main.css">
{head}
</head>
<body class="post-template-default single">
<div class="header-top"><span class="date-now">{weekday(self.today)} {self.today.day} {month(self.today, "morocco")} {self.today.year}</span>
<div class="salat"><span>أوقات الصلاة - الرباط:</span> الفجر 04:20 | الظهر 13:27 | العصر 17:10 | المغرب 20:34 | العشاء 22:06</div>
<a href="{BASE}/search/?s=">بحث</a> <a href="{BASE}/">FR</a> <a href="{BASE}/">EN</a></div>
<header class="site-header"><a class="navbar-brand" href="{BASE}/"><img src="{BASE}/wp-content/themes/hespress/img/logo.svg" alt="هسبريس"></a>
<ul class="navbar-nav"><li><a href="{BASE}/">سياسة</a></li><li><a href="{BASE}/">اقتصاد</a></li><li><a href="{BASE}/">مجتمع</a></li><li><a href="{BASE}/">رياضة</a></li><li><a href="{BASE}/">فن وثقافة</a></li><li><a href="{BASE}/">تكنولوجيا</a></li></ul></header>
<main class="container">
{body}
</main>
<footer class="footer"><p class="copyright">{self.copyright}</p></footer>
<div class="cookies-box">يستخدم موقع هسبريس ملفات الكوكيز لتحسين خدماته. <a href="#">موافق</a></div>
</body>
</html>
"""

    def article(self, a):
        rel = others(a, 3)
        head = og(a, "هسبريس", a.title, lead(a), f"/wp-content/uploads/{a.key}.jpg")
        head += f'\n<meta property="article:published_time" content="{a.iso}">\n<meta name="author" content="{e(a.author or "")}">'
        ld = news_article_ld(a, "هسبريس", "/logo.png")
        graph = {"@context": "https://schema.org", "@graph": [{**ld, "@context": None}]}
        graph["@graph"][0].pop("@context")
        graph["@graph"].append({"@type": "WebSite", "name": "هسبريس", "url": BASE + "/"})
        head += "\n" + jsonld(graph)
        d = a.published
        inline = {
            after(
                a.paragraphs, 1
            ): f'<div class="read-also-inline"><strong>اقرأ أيضا:</strong> <a href="{rel[0].url}">{e(rel[0].title)}</a></div>'
        }
        cap = (
            f'<figure class="post-thumbnail"><img src="{BASE}/wp-content/uploads/{a.key}.jpg" alt=""><figcaption>{e(a.x["caption"])}</figcaption></figure>'
            if a.x.get("caption")
            else f'<figure class="post-thumbnail"><img src="{BASE}/wp-content/uploads/{a.key}.jpg" alt=""></figure>'
        )
        body = f"""<div class="row"><div class="col-lg-8">
<div class="post-header">
<span class="cat"><a href="{BASE}/">{e(a.section or "")}</a></span>
<h1 class="post-title">{e(a.title)}</h1>
<div class="author"><a href="{BASE}/author/{a.key}">{e(a.author or "")}</a></div>
<span class="date-post">{weekday(d)} {d.day} {month(d, "morocco")} {d.year} - {d:%H:%M}</span>
</div>
{cap}
<div class="article-content">
{paras_html(a.paragraphs, inline)}
</div>
<div class="share-post">مشاركة <a href="#">فيسبوك</a> <a href="#">واتساب</a></div>
<div class="comments-area"><h3 class="comments-title">التعليقات</h3>
<p class="comments-policy">المرجو عدم تضمين تعليقاتكم عبارات مسيئة أو عنصرية، وكل تعليق يتضمن ذلك لن يتم نشره.</p>
<div class="comment"><span class="comment-author">1 - مواطن</span><p class="comment-text">مقال جيد ومفيد، شكرا هسبريس</p></div></div>
</div>
<aside class="col-lg-4"><div class="widget most-read"><h2>الأكثر قراءة</h2><ul>{"".join(f'<li><a href="{o.url}">{e(o.title)}</a><span>{o.published.day} {month(o.published, "morocco")} {o.published.year}</span></li>' for o in rel)}</ul></div></aside>
</div>"""
        return self.page(a.title, body, head), [
            "المرجو عدم تضمين تعليقاتكم عبارات مسيئة أو عنصرية",
            "مقال جيد ومفيد، شكرا هسبريس",
            self.copyright,
            "يستخدم موقع هسبريس ملفات الكوكيز لتحسين خدماته.",
        ]


# ---- 8. Annahar: Levantine months, body in <div class="paragraph">, «التالي» pager ----
class AnnaharLayout(Layout):
    copyright = "جميع الحقوق محفوظة © 2024 النهار"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<title>{e(title)} | النهار</title>
<meta name="viewport" content="width=device-width">
<link rel="stylesheet" href="{BASE}/static/css/annahar.min.css">
{head}
</head>
<body>
<header class="nhr-header">
<div class="nhr-header__top"><span class="nhr-date">{weekday(self.today)} {self.today.day} {month(self.today, "levant")} {self.today.year}</span><span class="weather">بيروت 28° صافٍ</span><a class="nhr-search" href="{BASE}/search?q=">ابحث</a></div>
<a class="nhr-logo" href="{BASE}/">النهار</a>
<nav class="nhr-menu"><a href="{BASE}/arabic/section/world">العالم</a><a href="{BASE}/arabic/section/economy">اقتصاد وأعمال</a><a href="{BASE}/arabic/section/world">ثقافة</a><a href="{BASE}/arabic/section/world">رياضة</a><a href="{BASE}/arabic/section/world">صحة وتغذية</a><a href="{BASE}/">اشترك</a></nav>
</header>
<div class="nhr-page">
{body}
</div>
<footer class="nhr-footer"><div>{self.copyright}</div><div class="apps">حمّل تطبيق النهار</div></footer>
</body>
</html>
"""

    def article(self, a):
        rel = others(a, 3)
        head = og(a, "النهار", a.title, lead(a), f"/images/{a.key}.jpg")
        head += f'\n<meta property="article:published_time" content="{a.iso}">'
        d = a.published
        when = f"{d.day} {month(d, 'levant')} {d.year} | {d:%H:%M}"
        items = []
        for i, p in enumerate(a.paragraphs):
            items.append(f'<div class="paragraph"><p>{e(p)}</p></div>')
            if i == 0:
                items.append('<div class="ad-slot" data-ad="inarticle"><span>إعلان</span></div>')
            if i == after(a.paragraphs, 2):
                items.append(
                    f'<div class="related-inline"><span>اقرأ أيضاً</span> <a href="{rel[0].url}">{e(rel[0].title)}</a></div>'
                )
        author = (
            f'<a class="author" href="{BASE}/author/{a.key}">{e(a.author)}</a>'
            if a.author
            else '<span class="author">المصدر: النهار العربي</span>'
        )
        body = f"""<article class="nhr-article">
<div class="nhr-article__section"><a href="{BASE}/arabic/section/world">{e(a.section or "")}</a></div>
<h1 class="nhr-article__title">{e(a.title)}</h1>
<div class="nhr-article__meta">{author}<span class="nhr-article__date">{when}</span></div>
<figure><img src="{BASE}/images/{a.key}.jpg" alt=""><figcaption>(أرشيفية)</figcaption></figure>
<div class="nhr-article__body">
{chr(10).join(items)}
</div>
<div class="nhr-share">مشاركة <a href="#">Facebook</a> <a href="#">X</a></div>
</article>
<section class="nhr-more"><h2>الأكثر قراءة</h2>{"".join(f'<div class="card"><a href="{o.url}">{e(o.title)}</a><span>{o.published.day} {month(o.published, "levant")} {o.published.year}</span></div>' for o in rel)}</section>
<div class="nhr-newsletter"><h3>النشرة الإخبارية</h3><p>اشترك في النشرة الإخبارية للنهار لتصلك أبرز الأخبار صباح كل يوم</p></div>"""
        return self.page(a.title, body, head), [
            "اشترك في النشرة الإخبارية للنهار لتصلك أبرز الأخبار صباح كل يوم",
            self.copyright,
            rel[0].title,
            "بيروت 28° صافٍ",
        ]

    def listing(self, title, path, items, page, pages, page_url):
        # Annahar's pager has no rel=next: only a «التالي» text link.
        lis = "\n".join(
            f'<div class="nhr-card"><a href="{a.url}"><h3>{e(a.title)}</h3></a><span>{a.published.day} {month(a.published, "levant")} {a.published.year}</span></div>'
            for a in items
        )
        nxt = f'<a class="more-btn" href="{page_url(page + 1)}">التالي</a>' if page < pages else ""
        body = f'<h1 class="nhr-section-title">{e(title)}</h1>\n<div class="nhr-cards">\n{lis}\n</div>\n<div class="nhr-pager">{nxt}</div>'
        return self.page(title if page == 1 else f"{title} - {page}", body), [self.copyright]


# ---- 9. Echorouk: Algerian months with Hijri date, «بقلم» line --------------------------
class EchoroukLayout(Layout):
    copyright = "جميع الحقوق محفوظة لـ الشروق أونلاين © 2024"
    today = datetime(2024, 6, 5)

    def page(self, title, body, head="", charset="utf-8"):
        return f"""<!DOCTYPE html>
<html dir="rtl" lang="ar-DZ">
<head>
<meta charset="utf-8">
<title>{e(title)} - الشروق أونلاين</title>
<link rel="alternate" type="application/rss+xml" href="{BASE}/feed/">
<link rel="stylesheet" href="{BASE}/wp-content/themes/echorouk/app.css">
{head}
</head>
<body>
<div class="ech-top"><span class="ech-date">{weekday(self.today)} {self.today.day} {month(self.today, "algeria")} {self.today.year} م الموافق لـ 28 ذو القعدة 1445 هـ</span>
<div class="ech-prayer">الجزائر العاصمة: الفجر 03:45 الظهر 12:46 العصر 16:38 المغرب 20:08 العشاء 21:50</div></div>
<header class="ech-header"><a href="{BASE}/" class="ech-logo">الشروق أونلاين</a>
<ul class="ech-nav"><li><a href="{BASE}/">وطني</a></li><li><a href="{BASE}/">اقتصاد</a></li><li><a href="{BASE}/">رياضة</a></li><li><a href="{BASE}/">ثقافة</a></li><li><a href="{BASE}/search?q=">بحث</a></li></ul></header>
{body}
<footer class="ech-footer"><p>{self.copyright}</p><p>الشروق أونلاين - يومية جزائرية مستقلة</p></footer>
</body>
</html>
"""

    def article(self, a):
        rel = others(a, 3)
        head = og(a, "الشروق أونلاين", a.title, lead(a), f"/wp-content/uploads/{a.key}.jpg")
        head += "\n" + jsonld(news_article_ld(a, "الشروق أونلاين", "/logo.png"))
        d = a.published
        when = (
            f"{weekday(d)} {d.day} {month(d, 'algeria')} {d.year} م، {ampm(d)} | {a.x['hijri']} هـ"
        )
        author = f'<p class="ech-author">بقلم: {e(a.author)}</p>' if a.author else ""
        body = f"""<div class="ech-wrap"><div class="ech-main">
<article class="ech-article">
<ul class="ech-crumbs"><li><a href="{BASE}/">الرئيسية</a></li><li>{e(a.section or "")}</li></ul>
<h1 class="ech-title">{e(a.title)}</h1>
<div class="ech-meta"><time>{when}</time></div>
{author}
<div class="ech-thumb"><img src="{BASE}/wp-content/uploads/{a.key}.jpg" alt=""><span class="ech-credit">الصورة: الشروق</span></div>
<div class="ech-content">
{paras_html(a.paragraphs)}
</div>
<div class="ech-share">مشاركة: <a href="#">فيسبوك</a> <a href="#">تويتر</a></div>
<div class="ech-comments-note">ملاحظة: التعليقات تعبر عن آراء أصحابها ولا تعبر عن رأي الشروق أونلاين</div>
</article>
<div class="ech-related"><h3>مواضيع ذات صلة</h3><ul>{"".join(f'<li><a href="{o.url}">{e(o.title)}</a> - {o.published.day} {month(o.published, "algeria")} {o.published.year}</li>' for o in rel)}</ul></div>
</div></div>"""
        return self.page(a.title, body, head), [
            "ملاحظة: التعليقات تعبر عن آراء أصحابها ولا تعبر عن رأي الشروق أونلاين",
            self.copyright,
            "الصورة: الشروق",
        ]


LAYOUTS = {
    "syriandays": SyriandaysLayout,
    "eremnews": EremLayout,
    "alittihad": IttihadLayout,
    "aljazeera": JazeeraLayout,
    "shaam": ShaamLayout,
    "sana": SanaLayout,
    "hespress": HespressLayout,
    "annahar": AnnaharLayout,
    "echorouk": EchoroukLayout,
}


# --------------------------------------------------------------------------------------
# Non-article pages, feeds and sitemaps per site
# --------------------------------------------------------------------------------------
VIDEOS = {
    "eremnews": dict(
        key="v-erem-dubai-rain",
        path="/video/1489011",
        title="فيديو.. لحظة هطول أمطار غزيرة على شوارع دبي",
        caption="لقطات متداولة تظهر غزارة الأمطار في أحد شوارع دبي.",
    ),
    "aljazeera": dict(
        key="v-aj-bulletin",
        path="/video/programs/2024/6/2/newsbulletin-ai-arabic",
        title="الحصاد - سباق النماذج اللغوية العربية",
        caption="تقرير مصور عن جهود بناء نماذج ذكاء اصطناعي تتقن العربية.",
    ),
    "shaam": dict(
        key="v-shaam-floods",
        path="/videos/idlib-rain-camps-video",
        title="فيديو: السيول تجتاح مخيمات إدلب",
        caption="مشاهد من مخيمات ريف إدلب الشمالي بعد العاصفة المطرية.",
    ),
}
TAGS = {
    "eremnews": dict(path="/tag/syria", label="سوريا", keys=["seed001"]),
    "alittihad": dict(path="/tags/russia", label="روسيا", keys=["seed002", "oil"]),
    "aljazeera": dict(path="/tag/syria/", label="سوريا", keys=["seed003", "arabicai"]),
}
# (title, first page path, article keys or None for all, page size, path of page n>1)
LISTINGS = {
    "syriandays": [
        ("عربي ودولي", "/news/category/8/", lambda a: a.x.get("category") == 8, 2, "/news/category/8/page/{n}/"),
        ("اقتصاد", "/news/category/13/", lambda a: a.x.get("category") == 13, 2, "/news/category/13/page/{n}/"),
    ],
    "eremnews": [("العالم", "/news/world", None, 4, "/news/world/page/{n}")],
    "alittihad": [("الأخبار العالمية", "/section/world-news/", None, 3, "/section/world-news/page/{n}/")],
    "aljazeera": [("أخبار", "/news/", None, 4, "/news/page/{n}/")],
    "shaam": [("أخبار سورية", "/news/syria-news", None, 4, "/news/syria-news/page/{n}")],
    "annahar": [
        ("العالم", "/arabic/section/world", lambda a: a.section != "اقتصاد", 3, "/arabic/section/world/page/{n}"),
        ("اقتصاد وأعمال", "/arabic/section/economy", lambda a: a.section == "اقتصاد" or a.story, 3, "/arabic/section/economy/page/{n}"),
    ],
}  # fmt: skip
FEEDS = {  # site -> (kind, path)
    "syriandays": ("rss", "/rss/rss.xml"),
    "alittihad": ("rss", "/rss.xml"),
    "aljazeera": ("atom", "/feeds/atom.atom"),
    "shaam": ("atom", "/feed/atom.xml"),
    "sana": ("rss", "/ar/feed.rss"),
    "echorouk": ("rss", "/feed/index.html"),
}
SITEMAPS = {  # site -> (index path, news sitemap path, pages sitemap path or None)
    "eremnews": ("/sitemap.xml", "/sitemaps/news.xml", "/sitemaps/sections.xml"),
    "aljazeera": ("/sitemap.xml", "/sitemaps/news-sitemap.xml", "/sitemaps/pages-sitemap.xml"),
    "hespress": ("/sitemap_index.xml", "/news-sitemap.xml", "/post-sitemap.xml"),
    "echorouk": ("/sitemap.xml", "/news-sitemap.xml", None),
}
ROBOTS_SITEMAP = {
    "syriandays": "/rss/rss.xml",
    "alittihad": "/rss.xml",
    "shaam": "/feed/atom.xml",
    "sana": "/ar/feed.rss",
    "annahar": "/sitemap-sections.xml",
}
WORDPRESS = {
    "sana": "/ar/wp-admin/",
    "hespress": "/wp-admin/",
    "echorouk": "/wp-admin/",
    "aljazeera": "/wp-admin/",
}
HEADERS = {
    "alittihad": {"/rss.xml": {"Content-Type": "application/rss+xml; charset=utf-8"}},
    "echorouk": {
        "/feed/": {"Content-Type": "application/rss+xml; charset=UTF-8"},
        "/feed": {"Content-Type": "application/rss+xml; charset=UTF-8"},
    },
}


def rss(site: Site, items: list[Art], self_path: str) -> str:
    from email.utils import format_datetime

    entries = "\n".join(
        f"""<item>
<title>{e(a.title)}</title>
<link>{a.url}</link>
<guid isPermaLink="true">{a.url}</guid>
<pubDate>{format_datetime(a.published)}</pubDate>
<category>{e(a.section or "")}</category>
<description>{e(lead(a, 200))}</description>
</item>"""
        for a in items
    )
    last = format_datetime(max(a.published for a in items))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{e(site.title)}</title>
<link>{BASE}/</link>
<atom:link href="{BASE}{self_path.replace("index.html", "")}" rel="self" type="application/rss+xml"/>
<description>آخر الأخبار من {e(site.title)}</description>
<language>ar</language>
<lastBuildDate>{last}</lastBuildDate>
{entries}
</channel>
</rss>
"""


def atom(site: Site, items: list, self_path: str) -> str:
    def entry(i) -> str:
        if isinstance(i, Art):
            url, title, when, summary = i.url, i.title, i.iso, lead(i, 200)
        else:
            url, title, when, summary = BASE + i["path"], i["title"], i["when"], i["caption"]
        return f"""<entry>
<title>{e(title)}</title>
<link rel="alternate" type="text/html" href="{url}"/>
<id>{url}</id>
<published>{when}</published>
<updated>{when}</updated>
<summary>{e(summary)}</summary>
</entry>"""

    updated = max(i.iso if isinstance(i, Art) else i["when"] for i in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">
<title>{e(site.title)}</title>
<link rel="self" href="{BASE}{self_path}"/>
<link rel="alternate" href="{BASE}/"/>
<id>{BASE}/</id>
<updated>{updated}</updated>
{chr(10).join(entry(i) for i in items)}
</feed>
"""


def news_sitemap(site: Site, items: list[Art]) -> str:
    urls = "\n".join(
        f"""<url>
<loc>{a.url}</loc>
<lastmod>{a.iso}</lastmod>
<news:news>
<news:publication><news:name>{e(site.title)}</news:name><news:language>ar</news:language></news:publication>
<news:publication_date>{a.iso}</news:publication_date>
<news:title>{e(a.title)}</news:title>
</news:news>
</url>"""
        for a in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""


def url_sitemap(entries: list[tuple[str, str]]) -> str:
    urls = "\n".join(
        f"<url><loc>{BASE}{quote(p, safe='/-_.~')}</loc><lastmod>{m}</lastmod></url>"
        for p, m in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}
</urlset>
"""


def sitemap_index(paths: list[str], lastmod: str) -> str:
    maps = "\n".join(
        f"<sitemap><loc>{BASE}{p}</loc><lastmod>{lastmod}</lastmod></sitemap>" for p in paths
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{maps}
</sitemapindex>
"""


def robots(site: Site) -> str:
    lines = [f"# robots.txt for {site.cfg['title']}", "User-agent: *", "Disallow: /search"]
    if site.name in WORDPRESS:
        lines += [
            f"Disallow: {WORDPRESS[site.name]}",
            f"Allow: {WORDPRESS[site.name]}admin-ajax.php",
        ]
    lines += ["", "User-agent: GPTBot", "Disallow: /", ""]
    sm = SITEMAPS.get(site.name, (ROBOTS_SITEMAP.get(site.name),))[0]
    lines.append(f"Sitemap: {BASE}{sm}")
    return "\n".join(lines) + "\n"


def build_site(site: Site) -> tuple[list[Page], dict[str, str], dict]:
    """Pages (HTML, with truth), other files (path -> text), and _headers.toml data."""
    lay = LAYOUTS[site.name](site)
    pages: list[Page] = []
    files: dict[str, str] = {}
    by_key = {a.key: a for a in site.articles}

    for a in site.articles:
        doc, bp = lay.article(a)
        pages.append(
            Page(
                path=a.path,
                html=doc,
                is_article=True,
                title=a.title,
                paragraphs=a.paragraphs,
                published=a.iso,
                precision=a.precision,
                author=a.author,
                section=a.section,
                encoding=a.x.get("encoding", "utf-8"),
                bom=bool(a.x.get("bom")),
                story=a.story,
                same_event=a.same_event,
                boilerplate=bp,
                old_layout=bool(a.x.get("old_layout")),
            )
        )

    video = VIDEOS.get(site.name)
    if video:
        video = dict(video, when=site.articles[0].iso)
        doc, bp = lay.video(video)
        pages.append(Page(video["path"], doc, False, video["title"], boilerplate=bp))
    tag = TAGS.get(site.name)
    if tag:
        doc, bp = lay.tag(tag, [by_key[k] for k in tag["keys"]])
        pages.append(Page(tag["path"], doc, False, f"وسم: {tag['label']}", boilerplate=bp))

    listing_pages = []
    for title, first, pick, size, pattern in LISTINGS.get(site.name, []):
        items: list = [a for a in site.articles if pick is None or pick(a)]
        if video and pick is None:
            items.insert(1, video)  # video cards sit among the stories
        chunks = [items[i : i + size] for i in range(0, len(items), size)]

        def page_path(n: int, first: str = first, pattern: str = pattern) -> str:
            return first if n == 1 else pattern.format(n=n)

        for n, chunk in enumerate(chunks, start=1):
            doc, bp = lay.listing(
                title, page_path(n), chunk, n, len(chunks), lambda k, pp=page_path: BASE + pp(k)
            )
            if tag and n == 1:
                doc = doc.replace(
                    "</ul>\n<nav",
                    f'</ul>\n<div class="hot-tags">وسوم: <a href="{BASE}{tag["path"]}">{e(tag["label"])}</a></div>\n<nav',
                    1,
                )
            pages.append(Page(page_path(n), doc, False, title, boilerplate=bp))
            listing_pages.append(page_path(n))

    home_items: list = list(site.articles)
    if video:
        home_items.insert(2, video)
    doc, bp = lay.home(home_items)
    pages.append(Page("/", doc, False, f"الرئيسية - {site.title}", boilerplate=bp))
    files["/search/index.html"] = lay.search()
    files["/robots.txt"] = robots(site)

    if site.name in FEEDS:
        kind, path = FEEDS[site.name]
        if kind == "rss":
            files[path] = rss(site, site.articles, path)
        else:
            files[path] = atom(site, site.articles + ([video] if video else []), path)
    if site.name in SITEMAPS:
        index, news, other = SITEMAPS[site.name]
        maps = [news] + ([other] if other else [])
        files[index] = sitemap_index(maps, site.articles[0].iso)
        files[news] = news_sitemap(site, site.articles)
        if other:
            if site.name == "hespress":  # Yoast's plain post sitemap repeats the articles
                entries = [(a.path, a.iso) for a in site.articles]
            else:
                entries = [(p.path, site.articles[0].iso) for p in pages if not p.is_article]
            files[other] = url_sitemap(entries)
    if site.name == "annahar":
        files["/sitemap-sections.xml"] = url_sitemap(
            [(p, site.articles[0].iso) for p in listing_pages]
        )
    return pages, files, HEADERS.get(site.name, {})


# --------------------------------------------------------------------------------------
# Checks, so that truth and pages stay consistent
# --------------------------------------------------------------------------------------
class _Text(HTMLParser):
    SKIP = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(doc: str) -> str:
    parser = _Text()
    parser.feed(doc)
    return norm("".join(parser.parts))


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip()


def check(site: Site, pages: list[Page]) -> list[str]:
    problems = []
    art_re = [re.compile(p) for p in site.cfg["article_url_patterns"]]
    for p in pages:
        where = f"{site.name}{p.path}"
        url = quote(p.path, safe="/-_.~")
        matches = any(r.search(url) for r in art_re)
        if matches != p.is_article:
            problems.append(
                f"{where}: article pattern match={matches} but is_article={p.is_article}"
            )
        text = visible_text(p.html)
        if norm(p.title) not in text:
            problems.append(f"{where}: title not in page text")
        body = " ".join([p.title, *p.paragraphs])
        for para in p.paragraphs:
            if norm(para) not in text:
                problems.append(f"{where}: paragraph not in page: {para[:40]}")
        for b in p.boilerplate:
            if norm(b) not in text:
                problems.append(f"{where}: boilerplate not on page: {b[:40]}")
            if norm(b) in norm(body):
                problems.append(f"{where}: boilerplate inside the truth text: {b[:40]}")
        if p.is_article:
            words = sum(len(x.split()) for x in p.paragraphs)
            if not 150 <= words <= 750:
                problems.append(f"{where}: {words} words")
        if p.encoding != "utf-8":
            try:
                p.html.encode(p.encoding)
            except UnicodeEncodeError as exc:
                problems.append(f"{where}: not encodable in {p.encoding}: {exc}")
    return problems


# --------------------------------------------------------------------------------------
def toml_headers(headers: dict[str, dict[str, str]]) -> str:
    out = ["# Response headers that override the server's defaults, by URL path."]
    for path, hs in headers.items():
        out.append(f'\n["{path}"]')
        out.extend(f'"{k}" = "{v}"' for k, v in hs.items())
    return "\n".join(out) + "\n"


def main() -> int:
    sites = load_sites()
    out_root = HERE / "sites"
    if out_root.exists():
        shutil.rmtree(out_root)
    truth: dict[str, dict] = {}
    problems: list[str] = []
    for site in sites:
        pages, files, headers = build_site(site)
        problems += check(site, pages)
        root = out_root / site.name
        for p in pages:
            rel = p.path.lstrip("/")
            target = root / rel if rel.endswith(".html") else root / rel / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            data = p.html.encode(p.encoding)
            target.write_bytes((b"\xef\xbb\xbf" if p.bom else b"") + data)
            url_path = quote(p.path, safe="/-_.~")
            key = f"{site.name}{url_path}"
            if key in truth:
                problems.append(f"duplicate page {key}")
            truth[key] = {
                "source": site.name,
                "url_path": url_path,
                "is_article": p.is_article,
                "title": p.title,
                "paragraphs": p.paragraphs,
                "published": p.published,
                "date_precision": p.precision,
                "author": p.author,
                "section": p.section,
                "encoding": p.encoding,
                "bom": p.bom,
                "story": p.story,
                "same_event": p.same_event,
                "boilerplate": p.boilerplate,
                "old_layout": p.old_layout,
            }
        for path, text in files.items():
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for p in pages:  # charset overrides for the legacy-encoded pages
            if p.encoding != "utf-8":
                meta_only = "<meta charset=" in p.html
                headers[p.path] = {
                    "Content-Type": "text/html" if meta_only else f"text/html; charset={p.encoding}"
                }
        if headers:
            (root / "_headers.toml").write_text(toml_headers(headers), encoding="utf-8")
    (HERE / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    n_art = sum(1 for t in truth.values() if t["is_article"])
    print(f"{len(sites)} sites, {len(truth)} pages, {n_art} articles")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
