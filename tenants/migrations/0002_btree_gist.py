from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    """btree_gist lets one exclusion constraint mix equality (trainer) with range overlap (booking time).

    An extension belongs to the database and lives in the schema it was created in; created here, by a
    shared app, it lands in public, which is on every studio's search path.
    """

    dependencies = [("tenants", "0001_initial")]

    operations = [BtreeGistExtension()]
