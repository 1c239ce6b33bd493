"""Shared pieces of the end-to-end harness: waiting for conditions, a raw FastCGI client, a webhook receiver."""
