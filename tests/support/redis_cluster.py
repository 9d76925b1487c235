"""A local Redis Cluster (3 masters, 3 replicas) on 127.0.0.1, from the machine's redis-server.

For tests, benchmarks and demos:

    .venv/bin/python -m tests.support.redis_cluster start [--base-port 7100] [--dir DIR]
    .venv/bin/python -m tests.support.redis_cluster stop  [--base-port 7100] [--dir DIR]

Ports base..base+5; node i's files live in DIR/node-<port>. Nodes keep nothing on disk beyond
their cluster config (no RDB, no AOF), like the machine's own Redis. `LocalCluster` is the same
thing for Python (the pytest fixture uses it), with kill/restart of a node for fault tests.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
NODES = 6


class LocalCluster:
    def __init__(self, directory: Path, base_port: int = 7100):
        self.directory = Path(directory)
        self.ports = [base_port + i for i in range(NODES)]

    @property
    def startup_nodes(self) -> str:
        """`host:port,…` as segpixel's redis+cluster:// URLs take them."""
        return ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def node_dir(self, port: int) -> Path:
        return self.directory / f"node-{port}"

    def start(self, timeout: float = 30.0) -> None:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError(
                "redis-server is missing: scripts/install-system-deps installs it (Debian package "
                "redis-server)"
            )
        for port in self.ports:
            self.start_node(port, fresh=True)
        self._cli(
            "--cluster",
            "create",
            *(f"127.0.0.1:{p}" for p in self.ports),
            "--cluster-replicas",
            "1",
            "--cluster-yes",
        )
        self.wait_ok(timeout)

    def start_node(self, port: int, fresh: bool = False) -> None:
        node = self.node_dir(port)
        if fresh and node.exists():
            shutil.rmtree(node)
        node.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                str(node),
                "--daemonize",
                "yes",
                "--pidfile",
                str(node / "redis.pid"),
                "--logfile",
                str(node / "redis.log"),
            ],
            check=True,
        )
        self._wait_ping(port)

    def kill_node(self, port: int) -> None:
        """SIGKILL, as a crash: no shutdown, no goodbye to the cluster."""
        pid = self._pid(port)
        if pid:
            os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid)

    def nodes(self) -> list[tuple[int, str, bool]]:
        """(port, role, serves slots) of every node the cluster knows and does not mark failed."""
        alive = next((p for p in self.ports if self._pid(p)), None)
        if alive is None:
            return []
        out = self._cli("-p", str(alive), "cluster", "nodes", check=False)
        nodes = []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 8 or "fail" in parts[2]:
                continue
            port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
            role = "master" if "master" in parts[2] else "replica"
            nodes.append((port, role, len(parts) > 8))
        return nodes

    def masters(self) -> list[int]:
        """The ports of the masters that serve slots."""
        return sorted(p for p, role, slots in self.nodes() if role == "master" and slots)

    def wait_ok(self, timeout: float = 30.0, replicas: int = 3) -> None:
        """Every live node says cluster_state:ok; 3 masters serve slots; `replicas` follow them
        and are in sync."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = [p for p in self.ports if self._pid(p)]
            states = [self._cli("-p", str(p), "cluster", "info", check=False) for p in alive]
            nodes = self.nodes()
            if (
                alive
                and all("cluster_state:ok" in s for s in states)
                and len(self.masters()) == 3
                and sum(1 for _, role, _ in nodes if role == "replica") >= replicas
            ):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(
                f"the local Redis Cluster on {self.ports} did not reach cluster_state:ok"
            )
        # A replica that is known but still syncing acknowledges no WAIT: wait for it too.
        while time.monotonic() < deadline:
            online = sum(
                self._cli("-p", str(p), "info", "replication", check=False).count("state=online")
                for p in self.masters()
            )
            if online >= replicas:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the replicas of the local Redis Cluster on {self.ports} did not sync")

    def wait_failed_over(self, dead: int, timeout: float = 30.0) -> None:
        """Wait until the cluster marked `dead` failed and a replica serves its slots.

        Start a node without persistence again only after this: a master that comes back empty
        before its replica took over is still the master, and its replica copies the emptiness.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            masters = self.masters()
            alive = [p for p in self.ports if self._pid(p)]
            states = [self._cli("-p", str(p), "cluster", "info", check=False) for p in alive]
            if (
                dead not in masters
                and len(masters) == 3
                and all("cluster_state:ok" in s for s in states)
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"no replica took over from the master on port {dead}")

    def stop(self) -> None:
        for port in self.ports:
            self.kill_node(port)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _pid(self, port: int) -> int | None:
        pidfile = self.node_dir(port) / "redis.pid"
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None

    def _wait_ping(self, port: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._cli("-p", str(port), "ping", check=False).strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {port} did not start")

    @staticmethod
    def _wait_gone(pid: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    @staticmethod
    def _cli(*args: str, check: bool = True) -> str:
        done = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"redis-cli {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout


def free_base_port(attempts: int = 200) -> int:
    """A base port whose NODES ports and their cluster bus ports (+10000) are all free."""
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20_000, 55_000 - NODES)
        ports = [base + i for i in range(NODES)] + [base + 10_000 + i for i in range(NODES)]
        if all(_port_free(p) for p in ports):
            return base
    raise RuntimeError("found no free ports for a local Redis Cluster")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--base-port", type=int, default=7100)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/segpixel-redis-cluster"))
    args = parser.parse_args()
    cluster = LocalCluster(args.dir, args.base_port)
    if args.action == "start":
        cluster.start()
        print(f"Redis Cluster up: redis+cluster://{cluster.startup_nodes}")
    else:
        cluster.stop()
        print("Redis Cluster stopped")


if __name__ == "__main__":
    main()
