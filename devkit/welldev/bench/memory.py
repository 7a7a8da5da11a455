"""Phase ``memory``: peak RSS of a process serving Retrieve requests, and its growth."""

from __future__ import annotations

from welldev.bench.api_requests import Requests
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.errors import BenchError
from welldev.bench.harness import note
from welldev.bench.report import Report
from welldev.bench.sandbox import Sandbox

MB = 1024 * 1024
MEMORY_FUNCTION = "CompanyWorkspaceConnectorsRetrieveFunction"


def measure_memory(report: Report, box: Sandbox, bench: BenchDatabase, config: Config) -> None:
    """A Lambda-like process (the built artifacts) serving Retrieve against the bench DB."""
    if (function := box.functions.get(MEMORY_FUNCTION)) is None:
        raise BenchError(f"{MEMORY_FUNCTION} is not in the sandbox")
    placeholder = "00000000-0000-0000-0000-00000000beef"
    args = {
        "handler": function.handler,
        "event": Requests.signed(bench).retrieve(placeholder),
        "placeholder": placeholder,
        "ids": list(bench.dataset.warm_row_ids),
        "requests": config.memory_requests,
        "every": config.memory_sample_every,
    }
    env = {"DATABASE_URL": bench.api_url, "DB_AUTH": "url", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    result = box.run(function, args, env)
    if set(result["statuses"]) != {"200"}:
        raise BenchError(f"the memory process got answers other than 200: {result['statuses']}")
    samples = [(int(i), rss / MB) for i, rss in result["samples"]]
    first = next(rss for i, rss in samples if i >= config.memory_sample_every)
    last = samples[-1][1]
    peak = result["peak"] / MB
    report.figure("memory.peak_rss", [peak], "MB")
    report.figure("memory.rss_after_import", [samples[0][1]], "MB")
    report.figure("memory.rss_after_first_thousand", [first], "MB")
    report.figure("memory.rss_after_last_thousand", [last], "MB")
    report.ratio("memory.peak_rss_mb", peak, 128)
    # "No growth": what a page or two of allocator noise may add, and not more.
    report.ratio("memory.growth_mb", last - first, 1.0)
    report.details["memory"] = {
        "requests": config.memory_requests,
        "rss_mb_by_request": [[i, round(rss, 2)] for i, rss in samples],
    }
    note(f"peak {peak:.1f} MB; after the first thousand {first:.1f} MB, at the end {last:.1f} MB")
