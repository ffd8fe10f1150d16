"""The shared gRPC server bootstrap, error mapping and client helpers used by every service."""
