"""Jobs are asked for by organisation and state (the dashboard, the jobs list): an index for it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0010_person_password'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='job',
            index=models.Index(fields=['organisation', 'state'], name='jobs_organisation_state'),
        ),
    ]
