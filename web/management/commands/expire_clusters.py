"""`python manage.py expire_clusters`: delete durable clusters unused for CLUSTER_RETENTION_DAYS.

Run it daily (cron, a Kubernetes CronJob); see docs/persistence.md.
"""
import datetime

from django.core.management.base import BaseCommand

from web import persistence


class Command(BaseCommand):
    help = "Delete the clusters nobody used for CLUSTER_RETENTION_DAYS days (default 14), with their history."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=None,
                            help="retention in days (default: the CLUSTER_RETENTION_DAYS setting)")

    def handle(self, *args, days=None, **options):
        older_than = datetime.timedelta(days=days) if days is not None else None
        expired = persistence.expire_clusters(older_than=older_than)
        if options["verbosity"]:
            self.stdout.write(f"expired {len(expired)} cluster(s)")
