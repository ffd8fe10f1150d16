"""Sandbox: runs untrusted code under defense-in-depth isolation and reports DESIGN section 5 statuses.

`core.Sandbox` is the transport-free core (tests and in-process callers use it directly),
`client.SandboxClient` the same five methods through gRPC, `service.make_spec` the gRPC service.
"""
