"""containerd, the CRI side of a node: pod sandboxes, containers, images, the CNI call.

The kubelet drives it with `cri` messages on the node's loopback (no latency): each carries a CRI
method (RunPodSandbox, PullImage, CreateContainer, StartContainer, StopContainer, StopPodSandbox,
RemovePodSandbox) and gets a `cri_result` back once the operation's simulated duration has
passed. Reads (the kubelet's PLEG relist, probes) are direct method calls that return plain data
and change nothing, like ListContainers on the socket.

Containers belong to the runtime: they keep running when the kubelet stops and when containerd
itself restarts (their shims keep them alive); they die with the machine. A container of a
control-plane static pod is backed by a simulated component process (`component`): starting or
stopping the container starts or stops that process, and a process that exits on its own is
reaped as an exited container the next time the kubelet relists.
"""
from __future__ import annotations

from typing import Any

from ..engine import PRIORITY_TIMER, Component
from . import cni, images

# Operation durations, [low, high] milliseconds, drawn uniformly.
SANDBOX_CREATE_MS = [250, 600]      # pause container, network namespace, CNI ADD (bridge + host-local)
SANDBOX_STOP_MS = [20, 60]          # CNI DEL, pause container stopped
CONTAINER_CREATE_MS = [20, 60]
CONTAINER_START_MS = [40, 120]
SIGTERM_EXIT_MS = [100, 600]        # how long the simulated app takes to exit after SIGTERM

CREATED = "CONTAINER_CREATED"
RUNNING = "CONTAINER_RUNNING"
EXITED = "CONTAINER_EXITED"
SANDBOX_READY = "SANDBOX_READY"
SANDBOX_NOTREADY = "SANDBOX_NOTREADY"
EXIT_REASON = {0: "Completed", 137: "Error", 143: "Error"}
CNI_NOT_INITIALIZED = "cni plugin not initialized"


class ContainerRuntime(Component):
    kind = "containerd"

    def __init__(self, sim: Any, name: str, node: str, images_present: list | None = None):
        super().__init__(sim, name, node)
        self.images: dict[str, dict] = {}
        self.sandboxes: dict[str, dict] = {}
        self.containers: dict[str, dict] = {}
        self.ipam: dict | None = None
        # Bumped on every change a relist could see; per pod too, so the kubelet relists cheaply.
        self.revision = 0
        self.pod_revisions: dict[str, int] = {}
        self.preload_images(images_present or [])

    # Images --------------------------------------------------------------------------------
    def preload_images(self, entries: list) -> None:
        """Images baked into the machine (kubeadm pre-pulls the control-plane images)."""
        for entry in entries:
            names = entry.get("names") or [entry.get("name")]
            for name in names:
                if name and "@" not in name:
                    self.add_image(name, int(entry.get("sizeBytes") or images.size_bytes(name)))

    def add_image(self, image: str, size: int) -> dict:
        normalized = images.normalize(image)
        record = {"name": normalized, "id": images.image_id(normalized),
                  "repo_digest": images.repo_digest(normalized), "size_bytes": size}
        self.images[normalized] = record
        return record

    def image_present(self, image: str) -> bool:
        return images.normalize(image) in self.images

    def image(self, image: str) -> dict | None:
        return self.images.get(images.normalize(image))

    def image_list(self) -> list[dict]:
        return list(self.images.values())

    # Reads (ListPodSandbox / ListContainers / ContainerStatus) -------------------------------
    def pod_view(self, pod_uid: str) -> dict:
        """The latest sandbox of a pod and all its containers, oldest first."""
        sandbox = None
        for record in self.sandboxes.values():
            if record["pod_uid"] == pod_uid:
                sandbox = record
        containers = [record for record in self.containers.values() if record["pod_uid"] == pod_uid]
        return {"sandbox": sandbox, "containers": containers}

    def pod_uids(self) -> list[str]:
        uids = []
        for record in self.sandboxes.values():
            if record["pod_uid"] not in uids:
                uids.append(record["pod_uid"])
        return uids

    def pod_revision(self, pod_uid: str) -> int:
        return self.pod_revisions.get(pod_uid, 0)

    def reap_exited_components(self) -> None:
        """A static pod's process that exited on its own shows up as an exited container."""
        components = self.sim.components
        for record in self.containers.values():
            component = record.get("component")
            if component and record["state"] == RUNNING and not components[component].running:
                self.exit_container(record, 1, "Error")

    def _changed(self, pod_uid: str) -> None:
        self.revision += 1
        self.pod_revisions[pod_uid] = self.revision

    # CRI -----------------------------------------------------------------------------------
    def on_cri(self, sender: str, request: dict) -> None:
        method = request["method"]
        self.emit("cri.call", sender, {"method": method, "pod": request.get("pod"),
                                       "container": request.get("container")})
        getattr(self, "cri_" + method)(sender, request)

    def reply(self, sender: str, request: dict, result: dict, delay_ms: int = 0) -> None:
        body = dict(result, id=request["id"], method=request["method"])
        if delay_ms <= 0:
            self.send(sender, "cri_result", body)
        else:
            self.after(delay_ms, "cri_reply", {"to": sender, "body": body})

    def on_cri_reply(self, payload: dict) -> None:
        self.send(payload["to"], "cri_result", payload["body"])

    def draw_ms(self, bounds: list) -> int:
        return self.rng.randint(bounds[0], bounds[1])

    def cri_RunPodSandbox(self, sender: str, request: dict) -> None:
        pod_uid = request["pod_uid"]
        sandbox_id = self.new_id()
        address = request.get("node_ip")
        if not request.get("host_network"):
            address = self.allocate_address(request.get("pod_cidr"), sandbox_id)
            if address is None or address.startswith("!"):
                self.reply(sender, request, {"ok": False, "error": self.network_error(sandbox_id, address)},
                           self.draw_ms(SANDBOX_CREATE_MS))
                return
        self.replace_old_sandboxes(pod_uid)
        self.sandboxes[sandbox_id] = {"id": sandbox_id, "pod_uid": pod_uid, "pod": request.get("pod"),
                                      "state": SANDBOX_READY, "ip": address,
                                      "host_network": bool(request.get("host_network")),
                                      "created_ms": self.sim.now_ms}
        self._changed(pod_uid)
        self.reply(sender, request, {"ok": True, "sandbox_id": sandbox_id, "ip": address},
                   self.draw_ms(SANDBOX_CREATE_MS))

    def replace_old_sandboxes(self, pod_uid: str) -> None:
        """A pod gets a new sandbox: the old one is stopped (CNI DEL) and forgotten."""
        for old in [record for record in self.sandboxes.values() if record["pod_uid"] == pod_uid]:
            if old["state"] == SANDBOX_READY:
                self.stop_sandbox(old)
            elif self.ipam is not None:
                cni.release(self.ipam, old["id"])
            del self.sandboxes[old["id"]]

    def allocate_address(self, pod_cidr: str | None, sandbox_id: str) -> str | None:
        if not pod_cidr:
            return "!" + CNI_NOT_INITIALIZED
        if self.ipam is None or self.ipam["subnet"] != cni.new_pool(pod_cidr)["subnet"]:
            self.ipam = cni.new_pool(pod_cidr)
        return cni.allocate(self.ipam, sandbox_id)

    def network_error(self, sandbox_id: str, address: str | None) -> str:
        if address is not None:
            return (f'failed to setup network for sandbox "{sandbox_id}": '
                    f"{CNI_NOT_INITIALIZED}")
        return (f'failed to setup network for sandbox "{sandbox_id}": plugin type="host-local" failed (add): '
                f"failed to allocate for range 0: {cni.RANGE_EXHAUSTED}: {cni.range_text(self.ipam or {})}")

    def cri_PullImage(self, sender: str, request: dict) -> None:
        image = request["image"]
        error = images.pull_failure(image)
        if error is not None:
            bounds = images.PULL_DNS_FAILURE_MS if images.failure_is_dns(error) else images.PULL_NOT_FOUND_MS
            self.reply(sender, request, {"ok": False, "error": error}, self.draw_ms(bounds))
            return
        size = images.size_bytes(image)
        duration_ms = images.pull_duration_ms(size)
        self.after(duration_ms, "image_pulled", {"image": image, "size": size})
        self.reply(sender, request, {"ok": True, "image_ref": images.repo_digest(image), "size_bytes": size,
                                     "pull_ms": duration_ms}, duration_ms)

    def on_image_pulled(self, payload: dict) -> None:
        self.add_image(payload["image"], payload["size"])

    def cri_CreateContainer(self, sender: str, request: dict) -> None:
        sandbox = self.sandboxes.get(request["sandbox_id"])
        if sandbox is None or sandbox["state"] != SANDBOX_READY:
            self.reply(sender, request, {"ok": False, "error": f'rpc error: code = NotFound desc = an error occurred when try to find sandbox "{request["sandbox_id"]}": not found'})
            return
        container_id = self.new_id()
        image = self.image(request["image"])
        self.prune_exited(sandbox["pod_uid"], request["container"])
        self.containers[container_id] = {
            "id": container_id, "sandbox_id": sandbox["id"], "pod_uid": sandbox["pod_uid"],
            "pod": sandbox["pod"], "name": request["container"], "image": images.normalize(request["image"]),
            "image_ref": image["repo_digest"] if image else images.repo_digest(request["image"]),
            "restart_count": int(request.get("restart_count") or 0), "state": CREATED,
            "created_ms": self.sim.now_ms, "started_ms": None, "finished_ms": None, "exit_code": None,
            "reason": "", "component": request.get("component"), "liveness_ok": True, "readiness_ok": True,
            "ignore_sigterm": False, "stopping": False}
        self._changed(sandbox["pod_uid"])
        self.reply(sender, request, {"ok": True, "container_id": container_id}, self.draw_ms(CONTAINER_CREATE_MS))

    def prune_exited(self, pod_uid: str, name: str) -> None:
        """Container GC keeps one dead container per (pod, container name) for `lastState`."""
        dead = [record["id"] for record in self.containers.values()
                if record["pod_uid"] == pod_uid and record["name"] == name and record["state"] == EXITED]
        for container_id in dead[:-1]:
            del self.containers[container_id]

    def cri_StartContainer(self, sender: str, request: dict) -> None:
        record = self.containers.get(request["container_id"])
        if record is None or record["state"] != CREATED:
            self.reply(sender, request, {"ok": False, "error": "rpc error: code = Unknown desc = container is not in created state"})
            return
        delay_ms = self.draw_ms(CONTAINER_START_MS)
        self.after(delay_ms, "container_started", {"id": record["id"]})
        self.reply(sender, request, {"ok": True}, delay_ms)

    def on_container_started(self, payload: dict) -> None:
        record = self.containers.get(payload["id"])
        if record is None or record["state"] != CREATED:
            return
        record["state"] = RUNNING
        record["started_ms"] = self.sim.now_ms
        component = record.get("component")
        if component and self.held_down_by_action(component):
            # A process a learner failed (etcd.fail, apiserver.fail) crashes again at once, so the
            # kubelet's restarts end in CrashLoopBackOff until the matching recover action.
            self.exit_container(record, 1, "Error")
            return
        if component and not self.sim.components[component].running:
            self.sim.components[component].start()
        self._changed(record["pod_uid"])

    def held_down_by_action(self, component: str) -> bool:
        director = self.sim.components.get("director")
        return director is not None and component in director.layout["stopped_by_action"]

    def cri_StopContainer(self, sender: str, request: dict) -> None:
        record = self.containers.get(request["container_id"])
        if record is None or record["state"] != RUNNING:
            self.reply(sender, request, {"ok": True})
            return
        timeout_ms = max(0, int(request.get("timeout_s", 0))) * 1000
        exit_ms = self.draw_ms(SIGTERM_EXIT_MS)
        record["stopping"] = True
        if record["ignore_sigterm"] or exit_ms >= timeout_ms:
            self.after(timeout_ms, "container_killed", {"id": record["id"], "signal": "SIGKILL"})
            self.reply(sender, request, {"ok": True}, timeout_ms)
            return
        self.after(exit_ms, "container_killed", {"id": record["id"], "signal": "SIGTERM"})
        self.reply(sender, request, {"ok": True}, exit_ms)

    def on_container_killed(self, payload: dict) -> None:
        record = self.containers.get(payload["id"])
        if record is None or record["state"] != RUNNING:
            return
        if payload["signal"] == "SIGKILL":
            self.exit_container(record, 137, "Error")
        else:
            self.exit_container(record, 0, "Completed")

    def exit_container(self, record: dict, exit_code: int, reason: str) -> None:
        record["state"] = EXITED
        record["exit_code"] = exit_code
        record["reason"] = reason
        record["finished_ms"] = self.sim.now_ms
        record["stopping"] = False
        component = record.get("component")
        if component and self.sim.components[component].running:
            self.sim.components[component].stop()
        self._changed(record["pod_uid"])

    def cri_StopPodSandbox(self, sender: str, request: dict) -> None:
        sandbox = self.sandboxes.get(request["sandbox_id"])
        if sandbox is not None:
            self.stop_sandbox(sandbox)
        self.reply(sender, request, {"ok": True}, self.draw_ms(SANDBOX_STOP_MS))

    def stop_sandbox(self, sandbox: dict) -> None:
        for record in self.containers.values():
            if record["sandbox_id"] == sandbox["id"] and record["state"] == RUNNING:
                self.exit_container(record, 137, "Error")
        sandbox["state"] = SANDBOX_NOTREADY
        if self.ipam is not None:
            cni.release(self.ipam, sandbox["id"])
        self._changed(sandbox["pod_uid"])

    def cri_RemovePodSandbox(self, sender: str, request: dict) -> None:
        pod_uid = request["pod_uid"]
        for sandbox in [s for s in self.sandboxes.values() if s["pod_uid"] == pod_uid]:
            if sandbox["state"] == SANDBOX_READY:
                self.stop_sandbox(sandbox)
            del self.sandboxes[sandbox["id"]]
        for container_id in [c["id"] for c in self.containers.values() if c["pod_uid"] == pod_uid]:
            del self.containers[container_id]
        self._changed(pod_uid)
        self.pod_revisions.pop(pod_uid, None)
        self.reply(sender, request, {"ok": True})

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    # Faults and app behaviour (actions) ------------------------------------------------------
    def find_running(self, namespace: str, pod_name: str, container: str | None) -> dict | None:
        key = f"{namespace}/{pod_name}"
        for record in self.containers.values():
            if record["pod"] == key and record["state"] == RUNNING and container in (None, record["name"]):
                return record
        return None

    def crash_container(self, namespace: str, pod_name: str, container: str | None = None,
                        exit_code: int = 1) -> bool:
        """The app exits on its own (`container.crash`): 1 = error, 137 = killed (e.g. OOM killer)."""
        record = self.find_running(namespace, pod_name, container)
        if record is None:
            return False
        self.exit_container(record, exit_code, "OOMKilled" if exit_code == 137 else "Error")
        if record.get("component"):
            kubelet = f"kubelet-{self.node}"
            if kubelet in self.sim.components:
                self.sim.schedule(self.sim.now_ms, PRIORITY_TIMER, kubelet, "static_pod_exited",
                                  {"component": record["component"], "reason": "Error"})
        return True

    def on_crash_container(self, payload: dict) -> None:
        namespace, _, pod_name = payload["pod"].rpartition("/")
        self.crash_container(namespace or "default", pod_name, payload.get("container"),
                             int(payload.get("exit_code", 1)))

    def set_container_health(self, namespace: str, pod_name: str, container: str | None = None, *,
                             liveness: bool | None = None, readiness: bool | None = None,
                             ignore_sigterm: bool | None = None) -> bool:
        """Make the simulated app (un)healthy for probes, or deaf to SIGTERM."""
        record = self.find_running(namespace, pod_name, container)
        if record is None:
            return False
        for field, value in (("liveness_ok", liveness), ("readiness_ok", readiness), ("ignore_sigterm", ignore_sigterm)):
            if value is not None:
                record[field] = bool(value)
        return True

    def on_set_container_health(self, payload: dict) -> None:
        namespace, _, pod_name = payload["pod"].rpartition("/")
        self.set_container_health(namespace or "default", pod_name, payload.get("container"),
                                  liveness=payload.get("liveness"), readiness=payload.get("readiness"),
                                  ignore_sigterm=payload.get("ignore_sigterm"))

    # Lifecycle -----------------------------------------------------------------------------
    def on_stop(self) -> None:
        """containerd exits. Containers survive through their shims unless the machine went down."""
        if not self.sim.network.machines_down.get(self.node or "", False):
            return
        for record in self.containers.values():
            if record["state"] != EXITED:
                record["state"] = EXITED
                record["exit_code"] = 255
                record["reason"] = "Unknown"
                record["finished_ms"] = self.sim.now_ms
                record["stopping"] = False
                self._changed(record["pod_uid"])
        for sandbox in self.sandboxes.values():
            sandbox["state"] = SANDBOX_NOTREADY
            self._changed(sandbox["pod_uid"])
