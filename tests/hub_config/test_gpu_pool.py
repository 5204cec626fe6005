import threading

import pytest

from practicum.hub_config.gpu_pool import GPUPool, NoFreeGPU


def test_each_sandbox_gets_its_own_device():
    pool = GPUPool(["0", "1"])
    assert pool.acquire("ada/", 1) == ["0"]
    assert pool.acquire("bob/", 1) == ["1"]
    with pytest.raises(NoFreeGPU, match="all 2 GPU"):
        pool.acquire("eve/", 1)


def test_acquiring_again_returns_the_same_device_and_release_frees_it():
    pool = GPUPool(["0", "1"])
    assert pool.acquire("ada/", 1) == ["0"]
    assert pool.acquire("ada/", 1) == ["0"]
    pool.release("ada/")
    assert pool.held_by("ada/") == []
    assert pool.acquire("bob/", 2) == ["0", "1"]


def test_concurrent_acquires_never_share_a_device():
    pool = GPUPool([str(i) for i in range(8)])
    got: dict[str, list[str]] = {}

    def take(owner: str) -> None:
        got[owner] = pool.acquire(owner, 1)

    threads = [threading.Thread(target=take, args=(f"u{i}/",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    devices = [d for held in got.values() for d in held]
    assert sorted(devices, key=int) == [str(i) for i in range(8)]
