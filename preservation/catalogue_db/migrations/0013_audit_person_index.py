"""What the audit log filtered by one person asks: that person's entries in entry order."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0012_attention_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['person', 'entry_id'], name='audit_log_person_entry'),
        ),
    ]
