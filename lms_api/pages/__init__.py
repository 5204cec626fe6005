"""The LMS's pages: server-rendered views for learners, instructors and HR, behind hub login.

Each page calls the JSON API's own route functions (the same queries, the same per-object policy)
and renders what they return with Jinja2; charts are drawn in the browser by plotly.js, served from
the installed `plotly` package (no CDN: the lab is often offline).
"""
