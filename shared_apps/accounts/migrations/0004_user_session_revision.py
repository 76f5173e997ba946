from django.db import migrations


class Migration(migrations.Migration):
    """The revision that ends sessions now counts deactivations too, not only two-factor changes."""

    dependencies = [
        ("accounts", "0003_user_mfa_revision"),
    ]

    operations = [
        migrations.RenameField(model_name="user", old_name="mfa_revision", new_name="session_revision"),
    ]
