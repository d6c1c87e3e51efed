"""TLS inside the mesh: certificate sources, client validation, mutual TLS, strict mode, grants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

from conftest import AUTHORITY_ARN, ENV, NGINX, SDS_SECRET, SDS_TRUSTED_SECRET
from mesh_microservices import DataPlane, MeshedCluster, MeshedService, MeshTls
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]

# What Envoy calls to serve a private certificate (App Mesh User Guide, "Transport Layer Security (TLS)":
# ACM certificates need acm:ExportCertificate, and validation acm-pca:GetCertificateAuthorityCertificate).
EXPORT_CERTIFICATE_ACTION = "acm:ExportCertificate"
GET_CA_CERTIFICATE_ACTION = "acm-pca:GetCertificateAuthorityCertificate"
# App Mesh API Reference, "ListenerTls": mode STRICT accepts only TLS, PERMISSIVE accepts TLS and plaintext.
STRICT, PERMISSIVE = "STRICT", "PERMISSIVE"


def _node(synth: Synthesized, path: str) -> dict[str, Any]:
    spec: dict[str, Any] = synth.resource("AWS::AppMesh::VirtualNode", path)["Properties"]["Spec"]
    return spec


def test_each_service_gets_a_private_certificate_for_the_name_callers_dial(variants: Variants) -> None:
    synth = variants("Tls")
    certificates = synth.resources("AWS::CertificateManager::Certificate").values()
    assert sorted(c["Properties"]["DomainName"] for c in certificates) == ["teller.tls.local", "vault.tls.local"]
    for certificate in certificates:
        assert certificate["Properties"]["CertificateAuthorityArn"] == AUTHORITY_ARN


def test_listeners_serve_the_certificate_strictly(variants: Variants) -> None:
    synth = variants("Tls")
    certificate = synth.logical_id("AWS::CertificateManager::Certificate", "/Vault/")
    for path in ("/Vault/AppMesh/VirtualNode/", "/Vault/AppMesh/VirtualNode-v2/"):
        tls = _node(synth, path)["Listeners"][0]["TLS"]
        assert tls["Mode"] == STRICT
        assert tls["Certificate"] == {"ACM": {"CertificateArn": {"Ref": certificate}}}


def test_callers_validate_against_the_authority(variants: Variants) -> None:
    synth = variants("Tls")
    policy = _node(synth, "/Teller/AppMesh/VirtualNode/")["BackendDefaults"]["ClientPolicy"]["TLS"]
    assert policy["Validation"]["Trust"] == {"ACM": {"CertificateAuthorityArns": [AUTHORITY_ARN]}}
    assert policy.get("Enforce", True) is True


def test_envoy_may_export_only_its_own_certificate_and_read_the_authority(variants: Variants) -> None:
    synth = variants("Tls")
    certificate = synth.logical_id("AWS::CertificateManager::Certificate", "/Vault/")
    # Both versions run with the service's one task role, whose policy holds the grants.
    policy_id = synth.logical_id("AWS::IAM::Policy", "/Vault/TaskDefinition/TaskRole/")
    statements = synth.json["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    tls_actions = (EXPORT_CERTIFICATE_ACTION, GET_CA_CERTIFICATE_ACTION)
    granted = [(s["Action"], s["Resource"]) for s in statements if s["Action"] in tls_actions]
    expected = [(EXPORT_CERTIFICATE_ACTION, {"Ref": certificate}), (GET_CA_CERTIFICATE_ACTION, AUTHORITY_ARN)]
    assert sorted(granted, key=str) == sorted(expected, key=str)
    role = synth.logical_id("AWS::IAM::Role", "/Vault/TaskDefinition/TaskRole/")
    canary = synth.logical_id("AWS::ECS::TaskDefinition", "/Vault/Version-v2/")
    assert synth.json["Resources"][canary]["Properties"]["TaskRoleArn"] == {"Fn::GetAtt": [role, "Arn"]}


def test_mutual_tls_from_files_validates_both_sides(variants: Variants) -> None:
    synth = variants("MutualTls")
    spec = _node(synth, "/Vault/AppMesh/VirtualNode/")
    listener_tls = spec["Listeners"][0]["TLS"]
    assert listener_tls["Certificate"] == {
        "File": {"CertificateChain": "/certs/chain.pem", "PrivateKey": "/certs/key.pem"}
    }
    assert listener_tls["Validation"]["Trust"] == {"File": {"CertificateChain": "/certs/ca.pem"}}
    client = spec["BackendDefaults"]["ClientPolicy"]["TLS"]
    assert client["Certificate"] == {"File": {"CertificateChain": "/certs/chain.pem", "PrivateKey": "/certs/key.pem"}}
    assert client["Validation"]["Trust"] == {"File": {"CertificateChain": "/certs/ca.pem"}}
    synth.template.resource_count_is("AWS::CertificateManager::Certificate", 0)


def test_certificates_from_files_and_from_sds_are_served_strictly_by_default(variants: Variants) -> None:
    assert _node(variants("MutualTls"), "/Vault/AppMesh/VirtualNode/")["Listeners"][0]["TLS"]["Mode"] == STRICT
    synth = variants("SdsTls")
    for path in ("/Vault/AppMesh/VirtualNode/", "/Vault/AppMesh/VirtualNode-v2/"):
        spec = _node(synth, path)
        assert spec["Listeners"][0]["TLS"] == {"Certificate": {"SDS": {"SecretName": SDS_SECRET}}, "Mode": STRICT}
        trust = spec["BackendDefaults"]["ClientPolicy"]["TLS"]["Validation"]["Trust"]
        assert trust == {"SDS": {"SecretName": SDS_TRUSTED_SECRET}}


def test_a_listener_that_is_not_strict_is_permissive() -> None:
    stack = cdk.Stack(cdk.App(), "Rollout", env=ENV)
    planes = {
        "Files": MeshTls.files(certificate_chain="/c.pem", private_key="/k.pem", trusted_chain="/ca.pem", strict=False),
        "Sds": MeshTls.sds(secret_name="svc", trusted_secret_name="ca", mutual=True, strict=False),
    }
    for name, tls in planes.items():
        cluster = MeshedCluster(stack, name, namespace=f"{name.lower()}.local", data_plane=DataPlane.app_mesh(tls=tls))
        MeshedService(stack, f"{name}Api", cluster=cluster, name="api", image=ecs.ContainerImage.from_registry(NGINX))
    nodes = Template.from_stack(stack).find_resources("AWS::AppMesh::VirtualNode").values()
    assert [node["Properties"]["Spec"]["Listeners"][0]["TLS"]["Mode"] for node in nodes] == [PERMISSIVE, PERMISSIVE]


def test_no_tls_means_no_certificates_or_client_policies(shop: Synthesized) -> None:
    shop.template.resource_count_is("AWS::CertificateManager::Certificate", 0)
    for node in shop.resources("AWS::AppMesh::VirtualNode").values():
        assert "BackendDefaults" not in node["Properties"]["Spec"]
        assert "TLS" not in node["Properties"]["Spec"]["Listeners"][0]
    assert EXPORT_CERTIFICATE_ACTION not in str(shop.json)


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: MeshTls.files(certificate_chain="", private_key="/k", trusted_chain="/c"), "certificate_chain=''"),
        (lambda: MeshTls.sds(secret_name="svc", trusted_secret_name=" "), "trusted_secret_name=' '"),
    ],
)
def test_tls_without_a_certificate_source_is_refused(build: Callable[[], MeshTls], fragment: str) -> None:
    with pytest.raises(ValueError, match="names no certificate source") as raised:
        build()
    assert fragment in str(raised.value)
