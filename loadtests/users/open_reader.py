"""Zipfian point reads at a constant arrival rate (the open model)."""

from __future__ import annotations

import random

from loadtests.ids import IdSpace
from loadtests.open_model import SERVICE_SUFFIX, OpenModelUser
from loadtests.zipf import Zipf, zipf_id


class OpenReader(OpenModelUser):
    name = "/posts/{id}"

    def on_start(self) -> None:
        self.rng = random.Random()
        self.ids = IdSpace.from_options(self.environment.parsed_options)
        self.zipf = Zipf(self.ids.count)

    def send(self) -> tuple[int, int]:
        post_id = zipf_id(self.zipf, self.rng, self.ids.first_id)
        response = self.client.get(f"/posts/{post_id}", name=self.name + SERVICE_SUFFIX)
        return response.status_code, len(response.content or b"")
