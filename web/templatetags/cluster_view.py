"""`{% cluster_view live %}`: the live cluster view for any page that has a LiveCluster
(templates/web/_cluster_view.html uses it, so `{% include "web/_cluster_view.html" with live=live %}`
is all a page needs)."""
from django import template

from web.views_cluster import cluster_view_context

register = template.Library()


@register.inclusion_tag("web/cluster_view_body.html", takes_context=True)
def cluster_view(context: template.Context, live):
    request = context["request"]
    view_context = cluster_view_context(request, live)
    view_context["request"] = request
    view_context["csrf_token"] = context.get("csrf_token")
    return view_context
