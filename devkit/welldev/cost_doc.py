"""Writes the quantity of docs/cost.md that grows with the resources, each function having its
alarm: the alarms of both stacks and the metrics they watch, counted in the templates as
written (``make generate``; ``tests/unit/test_cost_doc.py`` counts them again, transformed)."""

import argparse
import re

from welldev.deploy import ROOT, parsed

PAGE = ROOT / "docs" / "cost.md"
ALARMS = re.compile(r"\d+ alarms of standard resolution, on \d+ metrics")


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="python -m welldev.cost_doc", description=__doc__).parse_args(argv)
    templates = [ROOT / "database.yaml", ROOT / "template.yaml", *(ROOT / "stacks").glob("*.yaml")]
    alarms = [
        r["Properties"]
        for template in templates
        for r in parsed(template)["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    # An alarm on one metric names it; one on an expression lists its metrics beside the math.
    metrics = sum(
        sum("MetricStat" in m for m in a["Metrics"]) if "Metrics" in a else 1 for a in alarms
    )
    counted = f"{len(alarms)} alarms of standard resolution, on {metrics} metrics"
    PAGE.write_text(ALARMS.sub(counted, PAGE.read_text("utf-8"), count=1), "utf-8")


if __name__ == "__main__":
    main()
