"""What the ingest monitor asks: the jobs a person follows, newest first, a page at a time."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0015_audit_person_organisation_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='job',
            index=models.Index(fields=['-created', 'job_id'], name='jobs_newest'),
        ),
    ]
