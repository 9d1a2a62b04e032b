"""What the dashboard asks of an organisation's few held or damaged records, each answered from an index: an AIP by
record and organisation, AIPs by state, holds by when they were lifted."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0013_audit_person_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='aip',
            index=models.Index(fields=['record_id', 'organisation'], name='aips_record_organisation'),
        ),
        migrations.AddIndex(
            model_name='aip',
            index=models.Index(fields=['state'], name='aips_state'),
        ),
        migrations.AddIndex(
            model_name='hold',
            index=models.Index(fields=['lifted_at'], name='holds_lifted_at'),
        ),
    ]
