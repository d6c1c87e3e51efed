"""TLS between the services of an App Mesh cluster: certificate sources, validation and grants.

aws-cdk-lib's App Mesh module is imported where TLS is built, not with this module: ``MeshTls``
is public, so this module loads with the library, and an app on Service Connect, the default,
should not spend the import (about 17 ms at each synth) on a plane it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam
from constructs import Construct

from .._validate import FactoryOnly

if TYPE_CHECKING:
    from aws_cdk import aws_acmpca as acmpca
    from aws_cdk import aws_appmesh as appmesh

# What Envoy calls to serve an ACM certificate and to trust an AWS Private CA
# (App Mesh user guide, "Transport Layer Security", "AWS Certificate Manager Private CA").
EXPORT_CERTIFICATE_ACTION = "acm:ExportCertificate"
GET_CA_CERTIFICATE_ACTION = "acm-pca:GetCertificateAuthorityCertificate"


@dataclass(frozen=True)
class ClientTls:
    """What a caller that serves nothing (a gateway) needs: how to validate, and its grants."""

    client_policy: appmesh.TlsClientPolicy
    grant: Callable[[iam.IGrantable], None]


@dataclass(frozen=True)
class ServiceTls:
    """One service's TLS: what its listener serves and how it validates the services it calls."""

    listener: appmesh.ListenerTlsOptions
    client_policy: appmesh.TlsClientPolicy
    grant: Callable[[iam.IGrantable], None]

    def as_client(self) -> ClientTls:
        """The calling half alone (local certificates need no grant)."""
        return ClientTls(client_policy=self.client_policy, grant=self.grant)


class MeshTls(FactoryOnly):
    """How the services of an App Mesh cluster encrypt the traffic between them.

    Create one with a factory, ``MeshTls.private_ca(...)``, ``MeshTls.files(...)`` or
    ``MeshTls.sds(...)``, and pass it to ``DataPlane.app_mesh(tls=...)``. Every service then
    serves TLS on its listener and its callers' proxies validate the certificate. Strict mode
    (the default) refuses plaintext; permissive mode accepts both, for a rollout.
    """

    _factories = ("private_ca", "files", "sds")
    _description: str
    _build: Callable[[Construct, str], ServiceTls]
    _build_client: Callable[[], ClientTls]
    _mutual: bool
    _authority_arn: str | None

    @property
    def mutual(self) -> bool:
        """Whether callers present a certificate that servers validate (mutual TLS)."""
        return self._mutual

    @property
    def authority_arn(self) -> str | None:
        """The ARN of the AWS Private CA of ``MeshTls.private_ca``; None for the other sources."""
        return self._authority_arn

    @classmethod
    def private_ca(cls, authority: acmpca.ICertificateAuthority, *, strict: bool = True) -> MeshTls:
        """Certificates from an AWS Private CA, one ACM private certificate per service.

        Each service gets a certificate for the name callers dial (``orders.shop.local``);
        Envoy may export that certificate and read the authority's certificate, nothing more.
        App Mesh cannot present ACM certificates as client certificates, so this source has no
        mutual TLS: use ``MeshTls.files`` or ``MeshTls.sds`` for that.

        Args:
            authority: The private certificate authority that issues and anchors the certificates.
            strict: Refuse plaintext connections. Default: True.
        """

        def build(scope: Construct, dns_name: str) -> ServiceTls:
            # Imported when used: every aws_cdk module loaded delays each synth's start.
            from aws_cdk import aws_appmesh as appmesh
            from aws_cdk import aws_certificatemanager as acm

            certificate = acm.PrivateCertificate(
                scope, "Certificate", domain_name=dns_name, certificate_authority=authority
            )

            client = build_client()

            def grant(grantee: iam.IGrantable) -> None:
                iam.Grant.add_to_principal(
                    grantee=grantee, actions=[EXPORT_CERTIFICATE_ACTION], resource_arns=[certificate.certificate_arn]
                )
                client.grant(grantee)

            return ServiceTls(
                listener=appmesh.ListenerTlsOptions(
                    certificate=appmesh.TlsCertificate.acm(certificate), mode=_mode(strict)
                ),
                client_policy=client.client_policy,
                grant=grant,
            )

        def build_client() -> ClientTls:
            from aws_cdk import aws_appmesh as appmesh

            def grant(grantee: iam.IGrantable) -> None:
                iam.Grant.add_to_principal(
                    grantee=grantee,
                    actions=[GET_CA_CERTIFICATE_ACTION],
                    resource_arns=[authority.certificate_authority_arn],
                )

            return ClientTls(
                client_policy=appmesh.TlsClientPolicy(
                    validation=appmesh.TlsValidation(trust=appmesh.TlsValidationTrust.acm([authority]))
                ),
                grant=grant,
            )

        return _MeshTls(
            "MeshTls.private_ca()",
            build,
            build_client,
            mutual=False,
            authority_arn=authority.certificate_authority_arn,
        )

    @classmethod
    def files(
        cls,
        *,
        certificate_chain: str,
        private_key: str,
        trusted_chain: str,
        mutual: bool = False,
        strict: bool = True,
    ) -> MeshTls:
        """Certificates in files inside the Envoy container (e.g. a custom Envoy image).

        Args:
            certificate_chain: Path of the certificate chain every service presents.
            private_key: Path of its private key.
            trusted_chain: Path of the chain of authorities that callers and servers trust.
            mutual: Callers present the same certificate and servers validate it. Default: False.
            strict: Refuse plaintext connections. Default: True.
        """
        _require_text(certificate_chain=certificate_chain, private_key=private_key, trusted_chain=trusted_chain)

        def sources() -> tuple[appmesh.MutualTlsCertificate, appmesh.MutualTlsValidationTrust]:
            from aws_cdk import aws_appmesh as appmesh

            certificate = appmesh.TlsCertificate.file(certificate_chain, private_key)
            return certificate, appmesh.TlsValidationTrust.file(trusted_chain)

        def build(scope: Construct, dns_name: str) -> ServiceTls:
            return _mutual_capable(*sources(), mutual=mutual, strict=strict)

        return _MeshTls("MeshTls.files()", build, lambda: _local_client(*sources(), mutual), mutual=mutual)

    @classmethod
    def sds(cls, *, secret_name: str, trusted_secret_name: str, mutual: bool = False, strict: bool = True) -> MeshTls:
        """Certificates from an SDS provider running beside Envoy, such as a SPIRE agent.

        Args:
            secret_name: The SDS name of the certificate every service presents.
            trusted_secret_name: The SDS name of the trusted authorities' bundle.
            mutual: Callers present their certificate and servers validate it. Default: False.
            strict: Refuse plaintext connections. Default: True.
        """
        _require_text(secret_name=secret_name, trusted_secret_name=trusted_secret_name)

        def sources() -> tuple[appmesh.MutualTlsCertificate, appmesh.MutualTlsValidationTrust]:
            from aws_cdk import aws_appmesh as appmesh

            return appmesh.TlsCertificate.sds(secret_name), appmesh.TlsValidationTrust.sds(trusted_secret_name)

        def build(scope: Construct, dns_name: str) -> ServiceTls:
            return _mutual_capable(*sources(), mutual=mutual, strict=strict)

        return _MeshTls("MeshTls.sds()", build, lambda: _local_client(*sources(), mutual), mutual=mutual)

    def _for_service(self, scope: Construct, dns_name: str) -> ServiceTls:
        return self._build(scope, dns_name)

    def _for_client(self) -> ClientTls:
        """TLS for a caller that serves no mesh listener itself, such as the ingress gateway."""
        return self._build_client()

    def __repr__(self) -> str:
        return self._description


class _MeshTls(MeshTls):
    def __init__(
        self,
        description: str,
        build: Callable[[Construct, str], ServiceTls],
        build_client: Callable[[], ClientTls],
        *,
        mutual: bool,
        authority_arn: str | None = None,
    ) -> None:
        self._description = description
        self._build = build
        self._build_client = build_client
        self._mutual = mutual
        self._authority_arn = authority_arn


def _require_text(**sources: object) -> None:
    """A certificate source must name something: TLS cannot be asked for without one."""
    for parameter, value in sources.items():
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"MeshTls: {parameter}={value!r} names no certificate source; pass a path or SDS name.")


def _mode(strict: bool) -> appmesh.TlsMode:
    from aws_cdk import aws_appmesh as appmesh

    return appmesh.TlsMode.STRICT if strict else appmesh.TlsMode.PERMISSIVE


def _local_client(
    certificate: appmesh.MutualTlsCertificate, trust: appmesh.MutualTlsValidationTrust, mutual: bool
) -> ClientTls:
    return _mutual_capable(certificate, trust, mutual=mutual, strict=True).as_client()


def _mutual_capable(
    certificate: appmesh.MutualTlsCertificate, trust: appmesh.MutualTlsValidationTrust, *, mutual: bool, strict: bool
) -> ServiceTls:
    from aws_cdk import aws_appmesh as appmesh

    return ServiceTls(
        listener=appmesh.ListenerTlsOptions(
            certificate=certificate,
            mode=_mode(strict),
            mutual_tls_validation=appmesh.MutualTlsValidation(trust=trust) if mutual else None,
        ),
        client_policy=appmesh.TlsClientPolicy(
            validation=appmesh.TlsValidation(trust=trust), mutual_tls_certificate=certificate if mutual else None
        ),
        grant=lambda grantee: None,  # the certificates are local to the task: nothing to grant
    )
