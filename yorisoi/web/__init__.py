"""The web app: a JSON API under /api and Japanese pages for coordinators and supervisors.

`create_app(settings)` builds it; the engine is made when the app starts, never at import.
Routes hold no queries and change nothing themselves: reads go through `models.queries` and
`models.caseload`, who may see what through `yorisoi.service.access`, changes through the
case service.
"""
