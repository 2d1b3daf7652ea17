"""Config page: ``create_app(service)`` (Bottle); ``WebServer`` serves it in-daemon."""

from ivs_accessory.web.app import create_app
from ivs_accessory.web.serving import WebServer, inherited_socket, page_for

__all__ = ["WebServer", "create_app", "inherited_socket", "page_for"]
