"""The staff web app: pages for protocol staff, officials and publicity staff (`web/app.py`)."""
