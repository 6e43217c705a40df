"""web/channel_layer.py: the embedded mode's in-memory layer sweeps expired messages at most once
a SWEEP_EVERY_S, and otherwise behaves as Channels' own."""
import asyncio

from web import channel_layer
from web.channel_layer import SweptInMemoryChannelLayer


def test_group_messages_reach_every_member_in_order():
    async def scenario():
        layer = SweptInMemoryChannelLayer()
        first, second = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("cluster.a", first)
        await layer.group_add("cluster.a", second)
        for number in range(3):
            await layer.group_send("cluster.a", {"type": "cluster.events", "text": str(number)})
        return ([(await layer.receive(first))["text"] for _ in range(3)],
                [(await layer.receive(second))["text"] for _ in range(3)])

    assert asyncio.run(scenario()) == (["0", "1", "2"], ["0", "1", "2"])


def test_expired_messages_are_swept_and_their_channel_leaves_its_groups():
    async def scenario():
        layer = SweptInMemoryChannelLayer(expiry=0)
        stale = await layer.new_channel()
        await layer.group_add("cluster.b", stale)
        await layer.send(stale, {"type": "cluster.events", "text": "old"})
        layer.swept_at_s -= channel_layer.SWEEP_EVERY_S  # as if the interval had passed
        await layer.group_send("cluster.b", {"type": "cluster.events", "text": "sweeps"})
        return stale in layer.channels, stale in layer.groups.get("cluster.b", {})

    assert asyncio.run(scenario()) == (False, False), "as in Channels' own layer"


def test_within_the_interval_no_second_sweep_runs():
    async def scenario():
        layer = SweptInMemoryChannelLayer(expiry=0)
        await layer.group_send("cluster.d", {"type": "cluster.events", "text": "first sweep"})
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "cluster.events", "text": "expires at once"})
        await layer.group_send("cluster.d", {"type": "cluster.events", "text": "no sweep"})
        return channel in layer.channels

    assert asyncio.run(scenario()), "the expired message waits for the next sweep"
