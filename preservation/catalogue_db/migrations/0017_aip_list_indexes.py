"""What the AIP screens ask: AIPs newest first (of some organisations), and the AIPs holding a file of a format."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0016_jobs_newest'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='aip',
            index=models.Index(fields=['created', 'aip_id'], name='aips_created'),
        ),
        migrations.AddIndex(
            model_name='aip',
            index=models.Index(fields=['organisation', 'created', 'aip_id'], name='aips_organisation_created'),
        ),
        migrations.AddIndex(
            model_name='file',
            index=models.Index(fields=['puid', 'aip'], name='files_puid'),
        ),
        migrations.AddIndex(
            model_name='file',
            index=models.Index(fields=['format_name', 'puid'], name='files_format_name'),
        ),
    ]
