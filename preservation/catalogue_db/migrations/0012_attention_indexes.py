"""What the dashboard asks: jobs by organisation and state, and the few replicas damaged or missing."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0011_person_second_factor'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='job',
            index=models.Index(fields=['organisation', 'state'], name='jobs_organisation_state'),
        ),
        migrations.AddIndex(
            model_name='replica',
            index=models.Index(fields=['status'], name='replicas_status'),
        ),
    ]
