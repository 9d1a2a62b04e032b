"""What a record's schedule says, kept beside its appraisal so the records due are found, counted and grouped in
the database; and a destruction list's rejection (a verdict with its reason) beside its approvals."""

from typing import Any

from django.db import migrations, models


def compute_stored_schedules(apps: Any, schema_editor: Any) -> None:
    from preservation.retention import stored_schedule

    retention = apps.get_model("catalogue", "Retention")
    alias = schema_editor.connection.alias
    for row in retention.objects.using(alias).all().iterator():
        for name, value in stored_schedule(row.mdto, row.override).items():
            setattr(row, name, value)
        row.save(using=alias, update_fields=["status", "destruction_date", "term_start", "category",
                                             "category_label"])


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0018_fixity_tallies'),
    ]

    operations = [
        migrations.AddField(model_name='retention', name='status',
                            field=models.CharField(default='', db_default='', max_length=20)),
        migrations.AddField(model_name='retention', name='destruction_date', field=models.DateField(null=True)),
        migrations.AddField(model_name='retention', name='term_start', field=models.DateField(null=True)),
        migrations.AddField(model_name='retention', name='category',
                            field=models.CharField(default='', db_default='', max_length=200)),
        migrations.AddField(model_name='retention', name='category_label',
                            field=models.TextField(default='', db_default='')),
        migrations.AddIndex(model_name='retention',
                            index=models.Index(fields=['status', 'destruction_date'], name='retention_due')),
        migrations.AddIndex(model_name='retention',
                            index=models.Index(fields=['status', 'term_start'], name='retention_transfer')),
        migrations.AddField(model_name='destructionapproval', name='verdict',
                            field=models.CharField(default='approved', db_default='approved', max_length=20)),
        migrations.AddField(model_name='destructionapproval', name='reason',
                            field=models.TextField(default='', db_default='')),
        migrations.RunPython(compute_stored_schedules, migrations.RunPython.noop),
    ]
