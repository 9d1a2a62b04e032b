"""The fixity overview: what each fixity run and restore did per storage location and organisation, and the
indexes its figures per location are read from."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0017_aip_list_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='FixityTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('run_id', models.CharField(max_length=100)),
                ('kind', models.CharField(max_length=20)),
                ('location', models.CharField(max_length=200)),
                ('organisation', models.CharField(default='', max_length=100)),
                ('started', models.DateTimeField()),
                ('finished', models.DateTimeField()),
                ('by', models.CharField(max_length=300)),
                ('scheduled', models.BooleanField(default=False)),
                ('aips', models.IntegerField(default=0)),
                ('bytes', models.BigIntegerField(default=0)),
                ('found', models.IntegerField(default=0)),
                ('repaired', models.IntegerField(default=0)),
                ('unrepaired', models.IntegerField(default=0)),
            ],
            options={
                'db_table': 'fixity_tallies',
                'indexes': [models.Index(fields=['location', 'finished'], name='fixity_tallies_location'),
                            models.Index(fields=['run_id'], name='fixity_tallies_run')],
            },
        ),
        migrations.AddIndex(
            model_name='aip',
            index=models.Index(fields=['aip_id', 'state', 'organisation', 'payload_bytes'], name='aips_fixity'),
        ),
        migrations.AddIndex(
            model_name='replica',
            index=models.Index(fields=['location', 'aip', 'last_verified', 'status'], name='replicas_fixity'),
        ),
    ]
