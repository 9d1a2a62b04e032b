"""The web application for a WSGI server (`edepot.web.wsgi:application`), on the data directory `$EDEPOT_DATA`."""
from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edepot.web.settings")
application = get_wsgi_application()
