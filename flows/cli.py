"""`briefing`: run the monthly briefing, the bundled demo, or a check of the exports.

Exit codes: 0 done; 1 the exports have errors (nothing was stored or written);
2 a usage or configuration error (config files, SMTP settings); 3 the briefing was
produced but some messages failed (recorded, and retried by the next run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from flows import prefect_env

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config"
DEMO_EXPORTS = ROOT / "demo" / "exports"
REAL_CONFIG = ROOT / "config" / "dfe"
REAL_EXPORTS = ROOT.parent / "shared" / "data" / "dfe"
EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_MAIL = 0, 1, 2, 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="briefing",
        description="Children's services performance briefing for Overview and Scrutiny: "
                    "validate the month's exports, compare with history, targets and trend, "
                    "render the committee paper (HTML and PDF) and notify indicator owners.",
        epilog="Exit codes: 0 done; 1 the exports have errors (nothing stored or written); "
               "2 usage or configuration error; 3 some messages failed. Emails go to an "
               "outbox folder of .eml files unless --send is given (SMTP settings from "
               "BRIEFING_SMTP_* variables).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common_out(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--out", default="outputs", metavar="DIR",
                        help="output folder (default: outputs); the history store is "
                             "DIR/history.sqlite unless BRIEFING_STORE_URL is set")
        sp.add_argument("--send", action=argparse.BooleanOptionalAction, default=False,
                        help="send email through SMTP (settings from BRIEFING_SMTP_*), or "
                             "with --no-send (the default) write .eml files to an outbox")
        sp.add_argument("--edition", choices=["both", "public", "restricted"],
                        default="both", help="which editions to produce (default both)")
        sp.add_argument("--resend", action="store_true",
                        help="send again messages this cycle already sent")

    demo = sub.add_parser("demo", help="run the bundled demo (latest cycle); needs no server",
                          description="Run the monthly briefing on the demo config and "
                                      "exports shipped with the project.")
    demo.add_argument("--cycle", metavar="PERIOD",
                      help="period to report: YYYY-MM, or YYYY with --real (default: latest)")
    demo.add_argument("--real", action="store_true",
                      help="brief from DfE's published statistics alone (../shared/data/dfe, "
                           "or --exports): annual cycles 2013 to 2025, with benchmarks")
    demo.add_argument("--authority", metavar="CODE-OR-NAME",
                      help="with --real: the authority, by DfE code or name (default: Torbay, "
                           "880)")
    demo.add_argument("--exports", metavar="DIR", help=argparse.SUPPRESS)
    common_out(demo)

    run = sub.add_parser("run", help="run the monthly briefing on your config and exports",
                         description="Run the monthly briefing for one cycle.")
    run.add_argument("--config", required=True, metavar="DIR",
                     help="folder with indicators.yaml, owners.yaml, briefing.yaml")
    run.add_argument("--exports", required=True, metavar="DIR",
                     help="folder of the month's .csv and .xlsx exports")
    run.add_argument("--cycle", metavar="PERIOD",
                     help="period to report, e.g. 2024-10 (default: the latest in the exports)")
    run.add_argument("--authority", metavar="CODE-OR-NAME",
                     help="report on this authority instead of the one in briefing.yaml "
                          "(looked up in published DfE files among the exports)")
    common_out(run)

    reg = sub.add_parser("regional", help="a briefing for every authority (or those named) "
                                          "from DfE's published files, and an overview",
                         description="Brief many authorities at once from DfE's published "
                                     "files (config/dfe), across two processes, and write a "
                                     "regional overview to OUT/regional/CYCLE/. No mail.")
    reg.add_argument("--authority", action="append", metavar="CODE-OR-NAME",
                     help="an authority to include (repeat; default: all in the files)")
    reg.add_argument("--exports", metavar="DIR", default=str(REAL_EXPORTS),
                     help="DfE's published files (default ../shared/data/dfe)")
    reg.add_argument("--out", default="outputs", metavar="DIR", help="output folder")
    reg.add_argument("--cycle", metavar="YYYY", help="reporting year (default: latest)")
    reg.add_argument("--spread-to", metavar="DEPLOYMENT",
                     help="hand the authorities in parts to this deployment's workers, e.g. "
                          "regional-briefing-part/regional-part (needs PREFECT_API_URL)")
    reg.add_argument("--part-size", type=int, default=10, metavar="N",
                     help="authorities per part with --spread-to (default 10)")

    sub.add_parser("serve", help="run the deployments in prefect.yaml on this machine",
                   description="Serve the deployments declared in prefect.yaml: their "
                               "schedules run, and runs triggered from the Prefect UI or "
                               "`prefect deployment run` execute here. Uses PREFECT_API_URL, "
                               "or a temporary local server.")

    val = sub.add_parser("validate", help="check config and exports; changes nothing",
                         description="Check the config and exports and print every problem, "
                                     "one per line. Stores and writes nothing.")
    val.add_argument("--config", required=True, metavar="DIR")
    val.add_argument("--exports", required=True, metavar="DIR")
    val.add_argument("--cycle", metavar="PERIOD", help="period to check (default: latest)")
    val.add_argument("--authority", metavar="CODE-OR-NAME",
                     help="check for this authority instead of the one in briefing.yaml")
    return p


def _validate(args: argparse.Namespace) -> int:
    from tasks.pipeline import validate_exports

    inputs = validate_exports(Path(args.config), Path(args.exports), args.cycle,
                              authority=args.authority)
    from tasks.problems import sort_problems

    for p in sort_problems(inputs.problems):
        print(p.as_line())
    n_err = sum(1 for p in inputs.problems if p.severity.value == "error")
    print(f"{inputs.cycle}: {len(inputs.records)} usable records from {len(inputs.files)} "
          f"file(s); {n_err} error(s), {len(inputs.problems) - n_err} other finding(s)")
    return EXIT_DATA if n_err else EXIT_OK


def _preflight(args: argparse.Namespace, config: Path, exports: Path) -> None:
    """Config, authority and SMTP settings checked before the engine's start-up is paid for."""
    from tasks.authorities import resolve_authority
    from tasks.config import load_config
    from tasks.mail import SmtpSettings
    from tasks.sources import load_sources

    cfg = load_config(config)
    if args.authority:
        resolve_authority(exports, load_sources(config), args.authority, cfg)
    if args.send:
        SmtpSettings.from_env()


def _run(args: argparse.Namespace, config: Path, exports: Path) -> int:
    _preflight(args, config, exports)
    prefect_env.apply()
    if prefect_env.uses_local_engine():
        print("Starting Prefect's local engine (10 to 30 s; set PREFECT_API_URL to use a "
              "running server)...", file=sys.stderr, flush=True)
    from flows.monthly_briefing import monthly_briefing
    from tasks.problems import ValidationFailed

    start = time.perf_counter()
    try:
        result = monthly_briefing(config_dir=str(config), exports_dir=str(exports),
                                  cycle=args.cycle, out_dir=args.out, send=args.send,
                                  resend=args.resend, authority=args.authority,
                                  edition=args.edition)
    except ValidationFailed as exc:
        for p in exc.problems:
            print(p.as_line(), file=sys.stderr)
        print(f"Stopped: {exc}", file=sys.stderr)
        return EXIT_DATA
    summary = json.loads(Path(result["summary"]).read_text(encoding="utf-8"))
    rags = [i["rag"] for i in summary["indicators"]]
    dives = sum(1 for i in summary["indicators"] if i["deep_dive"])
    folder = Path(result["folder"])
    print(f"Briefing for {summary['authority']['name']}, {result['cycle']}: "
          f"{rags.count('red')} red, {rags.count('amber')} amber, {rags.count('green')} green, "
          f"{dives} deep dive(s), {len(summary['data_quality'])} data-quality finding(s)")
    print(f"  PDF:     {folder / 'briefing.pdf'}")
    print(f"  HTML:    {folder / 'briefing.html'}")
    print(f"  Summary: {folder / 'summary.json'}")
    statuses: dict[str, int] = {}
    for n in summary["notifications"]:
        statuses[n["status"]] = statuses.get(n["status"], 0) + 1
    where = "SMTP" if args.send else f"outbox {folder / 'outbox'}"
    print(f"  Email ({where}): " + (", ".join(f"{v} {k}" for k, v in sorted(statuses.items()))
                                    or "none"))
    print(f"Done in {time.perf_counter() - start:.1f} s")
    return EXIT_MAIL if statuses.get("failed") else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from tasks.config import ConfigError
    from tasks.mail import MailConfigError

    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "regional":
            if args.spread_to and not os.environ.get("PREFECT_API_URL"):
                raise ConfigError("--spread-to hands parts to the workers of a Prefect server: "
                                  "set PREFECT_API_URL to that server's API")
            prefect_env.apply()
            from flows.regional_briefing import regional_briefing

            print(regional_briefing(config_dir=str(REAL_CONFIG), exports_dir=args.exports,
                                    authorities=args.authority, out_dir=args.out,
                                    cycle=args.cycle, spread_to=args.spread_to,
                                    part_size=args.part_size))
            return EXIT_OK
        if args.command == "serve":
            prefect_env.apply()
            from flows.serve import serve

            serve()
            return EXIT_OK
        if args.command == "demo" and args.real:
            exports = Path(args.exports) if args.exports else REAL_EXPORTS
            if not exports.is_dir():
                raise ConfigError(f"{exports}: DfE's published files not found; give the "
                                  "folder with --exports")
            return _run(args, REAL_CONFIG, exports)
        if args.command == "demo":
            if args.authority:
                raise ConfigError("--authority goes with --real (the bundled demo is fictional)")
            return _run(args, DEMO_CONFIG, DEMO_EXPORTS)
        return _run(args, Path(args.config), Path(args.exports))
    except (ConfigError, MailConfigError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
