"""A gzip bomb in a sitemap or feed: a real crawl (subprocess) stays small in memory, logs why
it stopped reading, counts it, and still stores the site's articles."""

from __future__ import annotations

import contextlib
import struct
import subprocess
import time
import zlib
from pathlib import Path

import psutil
from crawl_helpers import crawl_env, make_site, query, start_crawl

from akhbar.samples import SampleSites

GIB = 1024**3
PEAK_LIMIT = 500 * 1024 * 1024


def gzip_bomb(prefix: bytes, filler: bytes, size: int, suffix: bytes) -> bytes:
    """A gzip file of prefix + ``size`` bytes of filler + suffix, built in about a second: one
    1 MiB block is deflated once after a full flush (so its bytes stand alone) and repeated."""
    block = filler * (1024 * 1024 // len(filler))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; gzip framing below
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    one_block = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    count = size // len(block)
    tail = deflate.compress(suffix) + deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    length = len(prefix) + count * len(block) + len(suffix)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, length & 0xFFFFFFFF)
    return header + head + one_block * count + tail + trailer


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a process that just ended
            total += member.memory_info().rss
    return total


def test_gzip_bomb_sitemap_and_feed_are_cut_short(tmp_path: Path, subprocess_env, database_url):
    root = make_site(tmp_path, articles=7)
    site = root / "sites" / "tiny"
    # Article 6 is listed only in the bomb: one real entry (a relative URL, resolved against
    # the sitemap's), then 1 GiB of spaces.
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    (site / "sitemap.xml").write_text(
        "\n".join(line for line in sitemap.splitlines() if "/news/6.html" not in line),
        encoding="utf-8",
    )
    urlset = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    bomb = gzip_bomb(urlset + b"<url><loc>/news/6.html</loc></url>", b" ", GIB, b"</urlset>")
    assert len(bomb) < 2 * 1024 * 1024
    (site / "bomb.xml.gz").write_bytes(bomb)
    feed = gzip_bomb(b'<rss version="2.0"><channel>', b"\t", GIB // 4, b"</channel></rss>")
    (site / "feed.rss").write_bytes(feed)
    # Content-Encoding gzip: Scrapy's DOWNLOAD_MAXSIZE stops this one, as before.
    (site / "encoded.xml").write_bytes(gzip_bomb(urlset, b"\n", GIB // 4, b"</urlset>"))
    (site / "_headers.toml").write_text('["/encoded.xml"]\n"Content-Encoding" = "gzip"\n')
    sources = (root / "sources.toml").read_text()
    (root / "sources.toml").write_text(
        sources.replace(
            'sitemaps = ["{base}/sitemap.xml"]',
            'sitemaps = ["{base}/sitemap.xml", "{base}/bomb.xml.gz", "{base}/encoded.xml"]\n'
            'feeds = ["{base}/feed.rss"]',
        )
    )

    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root)
        crawl = start_crawl(env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started = time.monotonic()
        watched = psutil.Process(crawl.pid)
        peak = 0
        deadline = time.monotonic() + 180
        while crawl.poll() is None and time.monotonic() < deadline:
            peak = max(peak, tree_rss(watched))
            time.sleep(0.05)
        if crawl.poll() is None:
            crawl.kill()
        output = crawl.communicate(timeout=30)[0]
        elapsed = time.monotonic() - started
        requested = [path for _, path in sites.request_log]

    print(f"crawl: peak RSS of its process tree {peak / 2**20:.0f} MiB, {elapsed:.1f} s")
    assert crawl.returncode == 0, output[-3000:]
    assert 0 < peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"
    assert {"/bomb.xml.gz", "/feed.rss", "/encoded.xml"} <= set(requested)
    # The sitemap's 6 articles and the bomb's one real entry, read before the cut.
    stored = {row[0].rsplit("/", 1)[1] for row in query(database_url, "SELECT url FROM articles")}
    assert stored == {f"{i}.html" for i in range(7)}
    assert "cut short" in output and "AKHBAR_MAX_DECOMPRESSED_BYTES" in output
    stats = query(database_url, "SELECT stats, status FROM crawl_runs ORDER BY id DESC LIMIT 1")
    assert stats[0][0]["akhbar/discovery_too_large"] == 2, stats  # the sitemap and the feed
    assert stats[0][1] == "finished"
