"""The Scrapy components one at a time, built the way Scrapy builds them (``from_crawler`` on
a real ``Crawler`` from ``scrapy.utils.test.get_crawler``), without a whole crawl."""

from __future__ import annotations

import asyncio
import time
import zlib
from datetime import UTC, datetime

import numpy as np
import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DropItem, IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, pool, text

from akhbar import dedup
from akhbar.article import Article
from akhbar.cleanup import TemplateFilter, template_fingerprints
from akhbar.normalize import normalize_arabic
from akhbar.page import FetchedPage, ProcessedPage, compress_html
from akhbar.processing import line_forms, normalised_text, process_page_remote
from akhbar.samples import load_truth, read_page
from crawlers.middlewares import (
    ARTICLE_META,
    CHECKED_META,
    BackoffRetryMiddleware,
    KnownUrlsBatchMiddleware,
    SkipKnownUrlsMiddleware,
)
from pipelines.extraction import EXTRACTION_CPU_STAT, ExtractionPipeline
from pipelines.quality import QualityFilterPipeline
from pipelines.template import TemplateTextPipeline


def _crawler(**settings: object):
    crawler = get_crawler(Spider, settings_dict=settings)
    crawler.spider = crawler._create_spider("components")
    return crawler


def _page(url: str, paragraphs: list[str], source: str = "test") -> ProcessedPage:
    article = Article(url=url, canonical_url=url, title="عنوان الخبر", paragraphs=paragraphs)
    fetched = FetchedPage(
        source=source, url=url, body=b"<html></html>", headers={}, fetched_at=datetime.now(UTC)
    )
    return ProcessedPage(page=fetched, article=article, extractor_version="test")


# -- SkipKnownUrlsMiddleware: asks the real database ---------------------------------------------
@pytest.fixture
def stored_url(database_url: str) -> str:
    url = "http://site.test/news/1.html"
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        source_id = conn.execute(
            text("INSERT INTO sources (name) VALUES ('components') RETURNING id")
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO articles"
                " (source_id, url, canonical_url, body, content_hash, minhash, fetched_at)"
                " VALUES (:s, :u, :u, 'نص', :h, :m, now())"
            ),
            {"s": source_id, "u": url, "h": b"\x01" * 32, "m": b"\x00" * 8},
        )
    engine.dispose()
    return url


def test_known_article_url_is_not_fetched_again(stored_url: str) -> None:
    crawler = _crawler()
    middleware = SkipKnownUrlsMiddleware.from_crawler(crawler)
    with pytest.raises(IgnoreRequest):
        asyncio.run(middleware.process_request(Request(stored_url, meta={ARTICLE_META: True})))
    assert crawler.stats.get_value("akhbar/skipped_known_url") == 1
    # A new article URL, and a listing that happens to share the stored URL, are fetched.
    fresh = Request("http://site.test/news/2.html", meta={ARTICLE_META: True})
    assert asyncio.run(middleware.process_request(fresh)) is None
    assert asyncio.run(middleware.process_request(Request(stored_url))) is None


async def _collect(iterator) -> list:  # type: ignore[no-untyped-def]
    return [item async for item in iterator]


async def _aiter(items: list):  # type: ignore[no-untyped-def]
    for item in items:
        yield item


def test_known_article_urls_are_dropped_in_batches(stored_url: str) -> None:
    crawler = _crawler()
    batch = KnownUrlsBatchMiddleware.from_crawler(crawler)
    fresh = [f"http://site.test/news/{n}.html" for n in range(2, 2503)]  # three batches
    output = [
        Request(stored_url, meta={ARTICLE_META: True}),
        Request("http://site.test/section/"),  # a listing: never checked
        Request(stored_url),  # a listing that shares the stored URL: fetched
        *(Request(url, meta={ARTICLE_META: True}) for url in fresh),
        {"not": "a request"},
    ]
    response = HtmlResponse("http://site.test/sitemap.xml", body=b"")
    kept = asyncio.run(_collect(batch.process_spider_output(response, _aiter(output))))
    kept_urls = [item.url for item in kept if isinstance(item, Request)]
    assert kept_urls.count(stored_url) == 1 and len(kept_urls) == len(fresh) + 2
    assert set(fresh) <= set(kept_urls)
    assert {"not": "a request"} in kept
    assert crawler.stats.get_value("akhbar/skipped_known_url") == 1
    checked = [r for r in kept if isinstance(r, Request) and r.meta.get(ARTICLE_META)]
    assert all(r.meta[CHECKED_META] == r.url for r in checked)
    # Start requests (resumed from the journal, say) are checked the same way.
    start = [
        Request(stored_url, meta={ARTICLE_META: True}),
        Request(fresh[0], meta={ARTICLE_META: True}),
    ]
    kept = asyncio.run(_collect(batch.process_start(_aiter(start))))
    assert [r.url for r in kept] == [fresh[0]]


def test_downloader_check_asks_only_for_urls_the_batch_did_not_check(stored_url: str) -> None:
    middleware = SkipKnownUrlsMiddleware.from_crawler(_crawler())
    # Checked by a batch just now: not asked again (it is known in the table, yet passes).
    checked = Request(stored_url, meta={ARTICLE_META: True, CHECKED_META: stored_url})
    assert asyncio.run(middleware.process_request(checked)) is None
    # A redirect to the stored URL from a checked one is asked about, and dropped.
    redirected = Request(
        stored_url, meta={ARTICLE_META: True, CHECKED_META: "http://site.test/old/1.html"}
    )
    with pytest.raises(IgnoreRequest):
        asyncio.run(middleware.process_request(redirected))


def test_skip_known_can_be_switched_off() -> None:
    with pytest.raises(NotConfigured):
        SkipKnownUrlsMiddleware.from_crawler(_crawler(AKHBAR_SKIP_KNOWN=False))
    with pytest.raises(NotConfigured):
        KnownUrlsBatchMiddleware.from_crawler(_crawler(AKHBAR_SKIP_KNOWN=False))


# -- BackoffRetryMiddleware -------------------------------------------------------------------------
def _retry_middleware(**settings: object) -> BackoffRetryMiddleware:
    crawler = _crawler(**settings)
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_retry_waits_with_exponential_backoff_and_honours_retry_after() -> None:
    middleware = _retry_middleware(AKHBAR_RETRY_BACKOFF_BASE=0.05, AKHBAR_RETRY_BACKOFF_MAX=0.5)
    request = Request("http://site.test/a")
    # Jitter is ±20 %: the first retry waits 0.04-0.06 s, the third 0.16-0.24 s.
    assert 0.04 <= middleware._delay(request) <= 0.06
    request.meta["retry_times"] = 2
    assert 0.16 <= middleware._delay(request) <= 0.24
    request.meta["retry_times"] = 10
    assert middleware._delay(request) <= 0.5 * 1.2  # capped
    busy = HtmlResponse(request.url, status=503, headers={"Retry-After": "0.4"}, request=request)
    request.meta["retry_times"] = 0
    assert 0.32 <= middleware._delay(request, busy) <= 0.48


def test_retryable_status_is_retried_after_the_delay_and_then_given_up() -> None:
    middleware = _retry_middleware(
        AKHBAR_RETRY_BACKOFF_BASE=0.1, AKHBAR_RETRY_BACKOFF_MAX=0.1, RETRY_TIMES=1
    )
    request = Request("http://site.test/a")
    response = HtmlResponse(request.url, status=503, request=request)
    started = time.monotonic()
    retry = asyncio.run(middleware.process_response(request, response))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert time.monotonic() - started >= 0.08
    # Out of retries: the response goes on to the spider, which records the failure.
    assert asyncio.run(middleware.process_response(retry, response)) is response
    ok = HtmlResponse(request.url, status=200, request=request)
    assert asyncio.run(middleware.process_response(request, ok)) is ok


# -- the quality and template pipelines ---------------------------------------------------------
def test_quality_filter_drops_and_counts_rejected_pages() -> None:
    crawler = _crawler()
    pipeline = QualityFilterPipeline.from_crawler(crawler)
    good = _page("http://site.test/1", ["نص"])
    assert pipeline.process_item(good) is good
    bad = _page("http://site.test/2", ["نص"])
    bad.rejected = "too short: 1 words < 40"
    with pytest.raises(DropItem, match="too short"):
        pipeline.process_item(bad)
    assert crawler.stats.get_value("akhbar/non_articles") == 1


def test_template_pipeline_learns_a_source_disclaimer_and_removes_it() -> None:
    crawler = _crawler()
    pipeline = TemplateTextPipeline.from_crawler(crawler)
    disclaimer = "جميع الحقوق محفوظة للموقع ولا يجوز إعادة النشر دون إذن خطي مسبق من الإدارة"
    stories = [
        f"أعلنت الوزارة في بيانها رقم {i} عن خطة جديدة لتطوير الخدمات في المحافظة {i} خلال العام"
        for i in range(12)
    ]
    outputs = [
        pipeline.process_item(_page(f"http://site.test/{i}", [stories[i], disclaimer]))
        for i in range(12)
    ]
    # Once the disclaimer has been seen on enough pages, it leaves the body; stories stay.
    assert disclaimer not in outputs[-1].article.paragraphs
    assert outputs[-1].article.paragraphs == [stories[11]]
    assert all(out.article.paragraphs[0] == stories[i] for i, out in enumerate(outputs))
    assert crawler.stats.get_value("akhbar/template_paragraphs_removed") >= 1
    # Learning is per source: another source's first page keeps the same line.
    other = pipeline.process_item(_page("http://other.test/1", [stories[0], disclaimer], "other"))
    assert disclaimer in other.article.paragraphs


def test_template_filter_given_keys_decides_as_without() -> None:
    """The crawl's filter takes fingerprints computed in the workers: its decisions on the
    sample sites' articles (with their own boilerplate, plus repeated and empty lines) are
    those of TemplateFilter.learn + filter on the paragraphs alone."""
    plain, keyed = TemplateFilter(), TemplateFilter()
    removed = 0
    entries = [e for e in load_truth().values() if e.get("is_article") and e.get("paragraphs")]
    assert len(entries) > 30
    for round_ in range(3):  # later rounds see every paragraph on many pages
        for n, entry in enumerate(entries):
            paragraphs = [*entry["paragraphs"], "«»", "تابعونا على فيسبوك", entry["paragraphs"][0]]
            page_id, source = f"{entry['url_path']}#{round_}", entry["source"]
            plain.learn(source, page_id, paragraphs)
            expected = plain.filter(source, paragraphs)
            keys = template_fingerprints(paragraphs, [normalize_arabic(p) for p in paragraphs])
            keyed.learn(source, page_id, paragraphs, keys)
            assert keyed.filter(source, paragraphs, keys) == expected, (n, round_)
            removed += len(paragraphs) - len(expected)
    assert removed > 0  # the comparison covered removals, not only pages kept whole


def test_stored_html_is_a_zlib_stream_any_reader_can_inflate() -> None:
    """article_html.html_zlib is a zlib stream that the standard library (and downstream
    readers) inflate: an empty body, a sample page and a page of several deflate blocks
    (over 64 KB, with bytes that are not UTF-8) come back byte for byte, and smaller."""
    sample = next(
        read_page(e["source"], e["url_path"], "http://127.0.0.9")
        for e in load_truth().values()
        if e.get("is_article")
    )
    large = sample * 40 + bytes(range(256)) * 64
    assert len(large) > 65_536
    for body in (b"", sample, large):
        stored = compress_html(body)
        assert zlib.decompress(stored) == body
        if body:
            assert len(stored) < len(body)


def test_worker_result_fingerprints_what_dedup_would_and_comes_back_without_the_body() -> None:
    """process_page_remote (what the crawl's workers run) gives the content hash and MinHash
    signature akhbar.dedup computes from the text, and returns the page without its HTML
    (the extraction pipeline puts back the page it sent)."""
    checked = 0
    for entry in list(load_truth().values())[:40]:
        if not entry.get("is_article") or entry.get("encoding", "utf-8") != "utf-8":
            continue
        url = "http://127.0.0.9" + entry["url_path"]
        body = read_page(entry["source"], entry["url_path"], "http://127.0.0.9")
        page = FetchedPage(source=entry["source"], url=url, body=body, fetched_at=datetime.now(UTC))
        processed = process_page_remote(page)
        assert processed.page.body == b"" and processed.page.url == url
        # The HTML comes back once, compressed as article_html stores it.
        assert zlib.decompress(processed.html_zlib) == body
        # Counted once, for the quality verdict, articles.word_count and the export record.
        assert processed.word_count == len(processed.article.text.split())
        paragraphs = processed.article.paragraphs
        probe = TemplateFilter()  # which paragraphs the plain filter learns, and as what
        probe.learn("probe", "page", paragraphs)
        assert processed.template_keys == [
            TemplateFilter.fingerprint(p) if probe.pages_with("probe", p) else None
            for p in paragraphs
        ]
        if processed.rejected is None:
            text = processed.article.text
            assert processed.content_hash == dedup.content_hash(text)
            assert processed.signature == dedup.signature_to_bytes(dedup.signature(text))
            # Recurring-text learning's view of the text, computed here rather than by the
            # store in the crawl process.
            expected, got = dedup.paragraphs(text), processed.paragraphs
            assert got is not None and len(expected.hashes) > 0
            for name in ("hashes", "sketches", "rest"):
                assert np.array_equal(getattr(got, name), getattr(expected, name)), name
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("workers", [0, 1])
def test_extraction_pipeline_counts_the_cpu_extraction_took(workers: int) -> None:
    """Each page carries the CPU seconds its extract() call took, measured where it ran (a
    worker process or the crawl's thread), and the crawl sums them in a stat: what the crawl
    bench weighs the rest of the pipeline against."""
    crawler = _crawler(AKHBAR_WORKERS=workers)
    pipeline = ExtractionPipeline.from_crawler(crawler)
    entries = [e for e in load_truth().values() if e.get("is_article")][:3]
    pages = [
        FetchedPage(
            source=e["source"],
            url="http://127.0.0.9" + e["url_path"],
            body=read_page(e["source"], e["url_path"], "http://127.0.0.9"),
            fetched_at=datetime.now(UTC),
        )
        for e in entries
    ]

    async def run() -> list[tuple[ProcessedPage, float]]:
        done = []
        for page in pages:
            started = time.thread_time()
            processed = await pipeline.process_item(page)
            done.append((processed, time.thread_time() - started))
        return done

    pipeline.open_spider()
    try:
        results = asyncio.run(run())
    finally:
        pipeline.close_spider()
    assert len(results) == 3
    for processed, spent_here in results:
        assert processed.page.body  # the page sent is the page kept
        assert 0 < processed.extraction_cpu_s < 5
        if workers == 0:  # measured in this thread: a part of what the whole call took here
            assert processed.extraction_cpu_s <= spent_here
    total = sum(processed.extraction_cpu_s for processed, _ in results)
    assert crawler.stats.get_value(EXTRACTION_CPU_STAT) == pytest.approx(total)


@pytest.mark.parametrize(
    "paragraphs",
    [
        ["ΟΔΟΣ ΣΟΦΙΑΣ", "Σοφία ΣΣ", "ΣΑΣ."],  # Greek final sigma at paragraph edges
        ["", "«»", "  ", "نصٌّ عربيٌّ، مع تشكيل!", "_x_"],  # empty and punctuation-only
        ["ﻻ إله", "النص"],  # presentation forms: NFKC over the whole text
        ["أحمد\u0654 ١٢٣", "İstanbul ǅ"],  # combining hamza, dotted I, titlecase
        [
            "قال المتحدث باسم الوزارة إن الاجتماع سيعقد غدا\nفي العاصمة بحضور الوفود كلها",
            "وأضاف أن جدول الأعمال يشمل ملفات الطاقة والمياه والنقل بين البلدين",
        ],  # a paragraph of two lines: the lines are dedup's paragraphs
    ],
)
def test_text_normalised_from_its_paragraphs_is_normalize_arabic_of_the_text(
    paragraphs: list[str],
) -> None:
    text = "\n\n".join(paragraphs)
    forms = [normalize_arabic(p) for p in paragraphs]
    assert normalised_text(text, forms) == normalize_arabic(text)
    assert normalised_text(text, None) == normalize_arabic(text)
    expected = dedup.paragraphs(text)
    for given in (forms, None):
        got = dedup.paragraphs_of_forms(line_forms(paragraphs, given))
        for name in ("hashes", "sketches", "rest"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), name
