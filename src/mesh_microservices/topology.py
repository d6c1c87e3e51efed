"""The mesh a CDK app declares, drawn as a Mermaid flowchart: services, calls and ingress."""

from __future__ import annotations

from pathlib import Path

from constructs import IConstruct

from .cluster import MeshedCluster
from .ingress import MeshIngress
from .service import MeshedService

TOPOLOGY_FILE = "topology.mmd"


def mermaid_topology(scope: IConstruct) -> str:
    """A Mermaid flowchart of every MeshedCluster below ``scope`` (an app, a stage or a stack).

    Each cluster is a box titled with its domain and data plane; each service shows its name,
    port and protocol, the weights of its versions and its route rules, and its rollout when it
    is not a rolling update (e.g. "canary 10 % · bake 30m"); an arrow is a
    declared call (``connect_to``/``backends``); a peer outside the mesh that was let in with
    ``expose_to`` (a load balancer) points at its service; a ``MeshIngress`` shows its load
    balancer and ports, and each of its arrows what it routes.
    """
    clusters = [c for c in scope.node.find_all() if isinstance(c, MeshedCluster)]
    ingresses = {i.node.path: i for i in scope.node.root.node.find_all() if isinstance(i, MeshIngress)}
    lines = ["flowchart LR"]
    edges: list[str] = []
    peers: dict[str, str] = {}  # construct path -> diagram id, one node per peer
    for index, cluster in enumerate(clusters):
        ids = {service.name: f"c{index}_{_safe(service.name)}" for service in cluster.services}
        lines.append(f'  subgraph c{index}["{cluster.service_domain} ({cluster.data_plane!r})"]')
        for service in cluster.services:
            lines.append(f'    {ids[service.name]}["{_label(service)}"]')
        lines.append("  end")
        for service in cluster.services:
            edges.extend(f"  {ids[service.name]} --> {ids[callee.name]}" for callee in service.callees)
            for peer in service.exposed_to:
                if peer not in peers:
                    peers[peer] = f"peer{len(peers)}"
                    lines.append(f'  {peers[peer]}(["{_peer_label(peer, ingresses.get(peer))}"])')
                edges.append(f"  {peers[peer]} ==>{_routes_label(ingresses.get(peer), service)} {ids[service.name]}")
    return "\n".join(lines + edges) + "\n"


def write_topology(scope: IConstruct, directory: str | Path) -> Path:
    """Write ``mermaid_topology(scope)`` to ``topology.mmd`` in ``directory`` and return its path.

    Call it with the app and ``app.synth().directory`` to keep the diagram next to the templates.
    """
    path = Path(directory) / TOPOLOGY_FILE
    path.write_text(mermaid_topology(scope))
    return path


def _label(service: MeshedService) -> str:
    """Name, port and protocol; the rollout; with several versions, their weights and the route rules."""
    parts = [service.name, f":{service.port} {service.protocol.value}"]
    if service.rollout.has_test_phase:
        parts.append(service.rollout.describe())
    if len(service.deployments) > 1:
        parts.append(" · ".join(f"{d.version} {d.weight}" for d in service.deployments.values()))
    for rule in service.route_rules:
        match = " ".join([rule.path_prefix, *(f"{k}={v}" for k, v in rule.headers.items())])
        target = " · ".join(f"{v} {w}" for v, w in rule.weights.items()) if rule.weights else "weights"
        parts.append(f"{rule.name}: {match} → {target}")
    return "<br/>".join(parts)


def _peer_label(path: str, ingress: MeshIngress | None) -> str:
    """The peer's construct id; for an ingress, also its public load balancer and ports."""
    label = path.rsplit("/", 1)[-1]
    if ingress is None:
        return label
    ports = " ".join(f":{port}" for port in ingress.public_ports)
    return f"{label}<br/>public {ingress.load_balancer_type.name} {ports}"


def _routes_label(ingress: MeshIngress | None, service: MeshedService) -> str:
    """What an ingress sends to ``service`` (host name and path prefix), as an arrow label."""
    if ingress is None:
        return ""
    matches = " · ".join(route.describe() for route in ingress.routes if route.service is service)
    return f'|"{matches}"|'


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)
