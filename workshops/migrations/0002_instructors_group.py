"""The "instructors" group, holding the permission to run workshops."""
from django.db import migrations

GROUP = "instructors"


def add_group(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); this one is needed now.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _created = ContentType.objects.get_or_create(app_label="workshops", model="workshop")
    permission, _created = Permission.objects.get_or_create(
        codename="run_workshop", content_type=content_type, defaults={"name": "Can create and run workshops"})
    group, _created = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(add_group, remove_group)]
