"""What the audit log of one person asks for a reader of some organisations: that person's entries of those
organisations in entry order."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0014_dashboard_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['person', 'organisation', 'entry_id'], name='audit_log_person_organisation'),
        ),
    ]
