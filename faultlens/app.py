"""The running faultlens server: the composition root of store, read path, receivers and analysis.

Start order: the writer owns the DuckDB file; the query server exposes the read path on loopback
(so ``faultlens sql`` / ``analyze`` / ``report`` and the dashboard read while we ingest); then the
receivers accept traffic; then the analysis scheduler. Stop is the reverse: receivers first (no new
acknowledgements), then analysis, the read path, and finally the writer drains and checkpoints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.config import ReceiverConfig
from collector.grpc_receiver import GrpcReceiver
from collector.http_receiver import HttpReceiver
from collector.service import ExportService
from store.config import StoreConfig
from store.query_server import QueryServer
from store.writer import DuckStoreWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisConfig:
    enabled: bool = True
    quiet_seconds: float = 5.0  # a trace is analysed once no span arrived for this long
    poll_seconds: float = 1.0


@dataclass(frozen=True)
class ServeConfig:
    db: Path
    receivers: ReceiverConfig = field(default_factory=ReceiverConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def validate(self) -> ServeConfig:
        self.receivers.validate()
        self.store.validate()
        return self


class FaultlensServer:
    def __init__(self, config: ServeConfig) -> None:
        self.config = config.validate()
        self.writer: DuckStoreWriter | None = None
        self.query_server: QueryServer | None = None
        self.service: ExportService | None = None
        self.grpc: GrpcReceiver | None = None
        self.http: HttpReceiver | None = None
        self.scheduler: Any = None

    def start(self) -> None:
        cfg = self.config
        try:
            self.writer = DuckStoreWriter(cfg.db, cfg.store)
            self.query_server = QueryServer(self.writer)
            self.service = ExportService(self.writer, cfg.receivers)
            if cfg.receivers.grpc_port != -1:
                self.grpc = GrpcReceiver(cfg.receivers, self.service)
                self.grpc.start()
            if cfg.receivers.http_port != -1:
                self.http = HttpReceiver(cfg.receivers, self.service)
                self.http.start()
            if cfg.analysis.enabled:
                self.scheduler = _start_scheduler(self.writer, cfg.analysis)
        except BaseException:
            self.stop()
            raise

    @property
    def grpc_port(self) -> int | None:
        return self.grpc.port if self.grpc else None

    @property
    def http_port(self) -> int | None:
        return self.http.port if self.http else None

    def stop(self) -> None:
        for name, part in (("grpc", self.grpc), ("http", self.http)):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    log.exception("stopping the %s receiver failed", name)
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self.query_server is not None:
            self.query_server.close()
            self.query_server = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.grpc = self.http = None


def _start_scheduler(writer: DuckStoreWriter, cfg: AnalysisConfig) -> Any:
    """The incremental analysis: analyse each trace once it is quiet, again when late spans come."""
    try:
        from analysis.scheduler import AnalysisScheduler
    except ImportError:  # the analysis package is optional at this layer
        log.warning("analysis scheduler unavailable; serving without incremental analysis")
        return None
    scheduler = AnalysisScheduler(
        writer.reader(), writer, quiet_seconds=cfg.quiet_seconds, poll_seconds=cfg.poll_seconds
    )
    scheduler.start()
    return scheduler
