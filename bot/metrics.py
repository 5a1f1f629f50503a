"""The gateway's Prometheus metrics: messages by channel and outcome, how long farmers wait, Rasa's queue and
errors, kept messages and pushes. Served at /metrics (metrics.py); README "Monitoring" lists the alert rules."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.admission import Admission
from metrics import LATENCY_BUCKETS


class GatewayMetrics:
    """One gateway process's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "xiangxin_messages", "Farmers' messages by channel and how they ended "
            "(answered at once, deferred: kept and answered later, apologised, refused by a limit, abandoned)",
            ["channel", "outcome"], registry=self.registry)
        self.reply_seconds = Histogram(
            "xiangxin_reply_seconds", "Seconds from a farmer's message to the gateway's reply (answer or deferral)",
            ["channel", "outcome"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rasa_seconds = Histogram(
            "xiangxin_rasa_seconds", "Seconds Rasa took to answer a message", buckets=LATENCY_BUCKETS,
            registry=self.registry)
        self.rasa_errors = Counter(
            "xiangxin_rasa_errors", "Messages Rasa did not answer: unreachable (never got there), error (an HTTP "
            "error or not Rasa's JSON), empty (no reply: a custom action failed, the action server down or erroring)",
            ["reason"], registry=self.registry)
        self.deferred = Counter(
            "xiangxin_deferred_settled", "Kept messages settled by this process: answered (pushed), failed (the "
            "farmer told to send again), retry (Rasa unreachable, tried again later)", ["result"],
            registry=self.registry)
        self.pushes = Counter(
            "xiangxin_pushes", "Pushes by kind and outcome: sent, failed (retried later or given up), postponed "
            "(Telegram flood control), delivered (web chat page showed them)", ["kind", "outcome"],
            registry=self.registry)
        self.queue_depth = Gauge("xiangxin_rasa_queue_depth", "Messages waiting for a turn at Rasa",
                                 registry=self.registry)
        self.in_flight = Gauge("xiangxin_rasa_in_flight", "Messages in Rasa now", registry=self.registry)
        self.concurrency = Gauge("xiangxin_rasa_concurrency", "Turns at Rasa (RASA_CONCURRENCY)",
                                 registry=self.registry)

    def watch(self, admission: Admission) -> None:
        """Read the queue depth and turns from `admission` at every scrape."""
        self.queue_depth.set_function(lambda: admission.waiting)
        self.in_flight.set_function(lambda: admission.in_flight)
        self.concurrency.set(admission.concurrency)

    def message(self, channel: str, outcome: str, seconds: float) -> None:
        """Count one message and how long its farmer waited."""
        self.messages.labels(channel, outcome).inc()
        self.reply_seconds.labels(channel, outcome).observe(seconds)
