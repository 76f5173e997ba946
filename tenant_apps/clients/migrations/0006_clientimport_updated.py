from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0005_client_text_bounds"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientimport",
            name="updated",
            field=models.DateTimeField(auto_now=True),
        ),
    ]
