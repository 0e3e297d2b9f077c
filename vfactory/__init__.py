"""vfactory: a virtual-factory toolkit."""

__version__ = "0.1.0"

from .client import Client, ClientError  # noqa: E402  (httpx only: light to import)

__all__ = ["Client", "ClientError", "__version__"]
