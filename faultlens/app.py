"""The running faultlens server: the composition root of store, read path, receivers and analysis.

Start order: the writer owns the DuckDB file; the query server exposes the read path on loopback
(so ``faultlens sql`` / ``analyze`` / ``report`` and the dashboard read while we ingest); then the
receivers accept traffic; then the analysis scheduler. Stop is the reverse: receivers first (no new
acknowledgements), then analysis, the read path, and finally the writer drains and checkpoints.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from analysis.options import AnalysisOptions
from analysis.remote import ANALYZE_PATH, AnalyzeRoute
from analysis.scheduler import AnalysisScheduler
from collector.config import ReceiverConfig
from collector.decode_pool import DecodePool
from collector.grpc_receiver import GrpcReceiver
from collector.http_receiver import HttpReceiver
from collector.service import ExportService
from faultlens import otlp_endpoint
from store.config import StoreConfig
from store.query_server import QueryServer
from store.writer import DuckStoreWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisConfig:
    enabled: bool = True
    quiet_seconds: float = 5.0  # a trace is analysed once no span arrived for this long
    poll_seconds: float = 1.0
    #: how the detectors run, for the incremental analysis and ``POST /analyze``
    options: AnalysisOptions = field(default_factory=AnalysisOptions)


@dataclass(frozen=True)
class ServeConfig:
    db: Path
    receivers: ReceiverConfig = field(default_factory=ReceiverConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def validate(self) -> ServeConfig:
        self.receivers.validate()
        self.store.validate()
        self.analysis.options.validate()
        return self


class FaultlensServer:
    def __init__(self, config: ServeConfig) -> None:
        self.config = config.validate()
        self.writer: DuckStoreWriter | None = None
        self.query_server: QueryServer | None = None
        self.service: ExportService | None = None
        self.decode_pool: DecodePool | None = None
        self.grpc: GrpcReceiver | None = None
        self.http: HttpReceiver | None = None
        self.scheduler: AnalysisScheduler | None = None

    def start(self) -> None:
        cfg = self.config
        try:
            self.writer = DuckStoreWriter(cfg.db, cfg.store)
            self.query_server = QueryServer(
                self.writer, routes=_analysis_routes(self.writer, cfg.analysis.options)
            )
            if cfg.receivers.decode_workers:
                self.decode_pool = DecodePool(
                    cfg.receivers.decode_workers, shared_memory=cfg.receivers.decode_shared_memory
                )
            self.service = ExportService(self.writer, cfg.receivers, self.decode_pool)
            if cfg.receivers.grpc_port != -1:
                self.grpc = GrpcReceiver(cfg.receivers, self.service)
                self.grpc.start()
            if cfg.receivers.http_port != -1:
                self.http = HttpReceiver(cfg.receivers, self.service)
                self.http.start()
            self._publish_endpoint()
            if cfg.analysis.enabled:
                self.scheduler = _start_scheduler(self.writer, cfg.analysis)
        except BaseException:
            self.stop()
            raise

    def _publish_endpoint(self) -> None:
        rc = self.config.receivers
        host = "127.0.0.1" if rc.host in ("0.0.0.0", "::", "") else rc.host
        scheme = "https" if rc.tls else "http"
        otlp_endpoint.publish(
            self.config.db,
            otlp_endpoint.OtlpEndpoint(
                pid=os.getpid(),
                http_url=f"{scheme}://{host}:{self.http_port}" if self.http_port else None,
                grpc_target=f"{host}:{self.grpc_port}" if self.grpc_port else None,
                tls=rc.tls,
            ),
        )

    @property
    def grpc_port(self) -> int | None:
        return self.grpc.port if self.grpc else None

    @property
    def http_port(self) -> int | None:
        return self.http.port if self.http else None

    def stop(self) -> None:
        otlp_endpoint.withdraw(self.config.db)
        for name, part in (("grpc", self.grpc), ("http", self.http)):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    log.exception("stopping the %s receiver failed", name)
        if self.decode_pool is not None:
            self.decode_pool.close()
            self.decode_pool = None
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


def _analysis_routes(writer: DuckStoreWriter, options: AnalysisOptions) -> dict[str, AnalyzeRoute]:
    """``POST /analyze`` on the read path: ``faultlens analyze`` asks the process owning the file to
    run the analysis and write the findings (only it can write)."""
    return {ANALYZE_PATH: AnalyzeRoute(writer.reader(), writer, options)}


def _start_scheduler(writer: DuckStoreWriter, cfg: AnalysisConfig) -> AnalysisScheduler:
    """The incremental analysis: analyse each trace once it is quiet, again when late spans come."""
    scheduler = AnalysisScheduler(
        # It reads traces quiet for seconds: no need to have every acknowledged batch applied
        # before each of its queries (which would make the writer apply smaller groups).
        writer.reader(see_acknowledged=False),
        writer,
        quiet_seconds=cfg.quiet_seconds,
        poll_seconds=cfg.poll_seconds,
        options=cfg.options,
    )
    scheduler.start()
    return scheduler
