"""One module per behaviour; `WORKLOADS` names the user classes each workload runs."""

from __future__ import annotations

from locust import User

from loadtests.users.batch import BatchWriter
from loadtests.users.comments import PageWithCommentsReader
from loadtests.users.every_route import EveryRoute
from loadtests.users.open_reader import OpenReader
from loadtests.users.readers import Reader
from loadtests.users.writers import Writer
from loadtests.users.ycsb import YcsbA, YcsbB, YcsbC, YcsbD, YcsbE, YcsbF

WORKLOADS: dict[str, list[type[User]]] = {
    "readers": [Reader],
    "writers": [Writer],
    "batch": [BatchWriter],
    "comments": [PageWithCommentsReader],
    "ycsb-a": [YcsbA],
    "ycsb-b": [YcsbB],
    "ycsb-c": [YcsbC],
    "ycsb-d": [YcsbD],
    "ycsb-e": [YcsbE],
    "ycsb-f": [YcsbF],
    "mixed": [Reader, Writer, PageWithCommentsReader, BatchWriter],
    "open-readers": [OpenReader],
    "gate": [EveryRoute],
}
