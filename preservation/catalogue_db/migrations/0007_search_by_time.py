"""Messages in order of time: a search sorted newest or oldest first reads them by this index when many match,
instead of sorting every match."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0006_woo_requests")]
    operations = [
        migrations.AddIndex(
            model_name="searchmessage",
            index=models.Index(fields=["ts", "message_id"], name="search_messages_time"),
        ),
    ]
