"""The configuration page: ``create_app(service)`` (a Bottle app) and ``WebServer`` that serves it inside the daemon."""

from ivs_accessory.web.app import create_app
from ivs_accessory.web.server import WebServer, inherited_socket, page_for

__all__ = ["WebServer", "create_app", "inherited_socket", "page_for"]
