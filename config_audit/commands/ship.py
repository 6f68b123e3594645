"""`config-audit ship`: forward new records to syslog, Splunk HEC and Elasticsearch."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from config_audit.commands.common import config_option, settings_from
from config_audit.commands.logopts import log_option, one_log


@click.command("ship")
@log_option
@click.option("--syslog", default=None, help="tcp://host:port (RFC 5424, octet counting).")
@click.option(
    "--hec", default=None, help="Splunk HEC URL, e.g. https://splunk:8088/services/collector/event."
)
@click.option("--hec-token-env", default=None, help="Environment variable holding the HEC token.")
@click.option("--es-bulk", default=None, help="Elasticsearch _bulk URL, e.g. http://es:9200/_bulk.")
@click.option("--es-index", default="config-audit", show_default=True)
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--follow", is_flag=True, help="Keep running; ship new records as they arrive.")
@click.option(
    "--interval", default=1.0, show_default=True, type=float, help="Poll seconds (--follow)."
)
@click.option("--host", default=None, help="Host name for records that name none.")
@config_option
def ship(
    log_paths: tuple[Path, ...],
    syslog: str | None,
    hec: str | None,
    hec_token_env: str | None,
    es_bulk: str | None,
    es_index: str,
    batch: int,
    follow: bool,
    interval: float,
    host: str | None,
    config_path: Path | None,
) -> None:
    """Forward new records to collectors, at least once, resuming where each one stopped.

    \b
    Examples:
      config-audit ship --syslog tcp://siem:6514 --log audit.jsonl
      SPLUNK_TOKEN=... config-audit ship --hec https://splunk:8088/services/collector/event \\
          --hec-token-env SPLUNK_TOKEN --follow
    """
    from config_audit.siem.ship import Shipper, destinations_from, run

    path = one_log(settings_from(config_path), log_paths, "ship")
    targets = destinations_from(
        syslog=syslog,
        hec=hec,
        hec_token_env=hec_token_env,
        es_bulk=es_bulk,
        es_index=es_index,
        environ=os.environ,
        host=host,
    )
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if follow:
        signal.signal(signal.SIGTERM, on_term)
    shippers = [Shipper(path, t, batch=batch) for t in targets]
    try:
        counts = run(shippers, follow=follow, stop=stop, interval=interval)
    except KeyboardInterrupt:
        stop.set()
        raise
    for url, count in counts.items():
        click.echo(f"shipped {count} record(s) to {url}", err=True)
