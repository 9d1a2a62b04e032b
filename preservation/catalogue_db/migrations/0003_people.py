"""People, organisations, roles, personal tokens and the audit log; each AIP's organisation.

The audit log is append only: on SQLite, triggers refuse deleting a row and changing anything but dropping its
address (which is kept for a configured period). Other databases get their own triggers in their migration.
"""
import django.db.models.deletion
from django.db import migrations, models

from preservation.catalogue_db.migrations._on_database import run_on

SQLITE_AUDIT_TRIGGERS = [
    "CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append only'); END",
    "CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log "
    "WHEN NEW.entry_id IS NOT OLD.entry_id OR NEW.at IS NOT OLD.at OR NEW.person IS NOT OLD.person "
    "OR NEW.action IS NOT OLD.action OR NEW.target IS NOT OLD.target OR NEW.organisation IS NOT OLD.organisation "
    "OR NEW.outcome IS NOT OLD.outcome OR NEW.detail IS NOT OLD.detail "
    "OR (NEW.address IS NOT NULL AND NEW.address IS NOT OLD.address) "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append only'); END",
]
SQLITE_AUDIT_TRIGGERS_DROP = ["DROP TRIGGER IF EXISTS audit_log_append_only_delete",
                              "DROP TRIGGER IF EXISTS audit_log_append_only_update"]


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0002_search_fts'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('entry_id', models.BigAutoField(primary_key=True, serialize=False)),
                ('at', models.DateTimeField(db_index=True)),
                ('person', models.CharField(db_index=True, max_length=300)),
                ('action', models.CharField(max_length=100)),
                ('target', models.TextField()),
                ('organisation', models.CharField(default='', max_length=100)),
                ('outcome', models.CharField(max_length=20)),
                ('detail', models.TextField()),
                ('address', models.CharField(max_length=300, null=True)),
            ],
            options={
                'db_table': 'audit_log',
            },
        ),
        migrations.CreateModel(
            name='Organisation',
            fields=[
                ('organisation_id', models.CharField(max_length=100, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=300, unique=True)),
                ('created', models.DateTimeField()),
                ('created_by', models.CharField(max_length=300)),
            ],
            options={
                'db_table': 'organisations',
            },
        ),
        migrations.CreateModel(
            name='Person',
            fields=[
                ('person_id', models.BigAutoField(primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=300)),
                ('key', models.CharField(max_length=300, unique=True)),
                ('active', models.BooleanField(default=True)),
                ('created', models.DateTimeField()),
                ('created_by', models.CharField(max_length=300)),
                ('disabled', models.DateTimeField(null=True)),
                ('disabled_by', models.CharField(default='', max_length=300)),
            ],
            options={
                'db_table': 'people',
            },
        ),
        migrations.AddField(
            model_name='aip',
            name='organisation',
            field=models.CharField(db_index=True, default='', max_length=100),
        ),
        migrations.CreateModel(
            name='PersonToken',
            fields=[
                ('token_id', models.BigAutoField(primary_key=True, serialize=False)),
                ('digest', models.CharField(max_length=64, unique=True)),
                ('created', models.DateTimeField()),
                ('created_by', models.CharField(max_length=300)),
                ('revoked', models.DateTimeField(null=True)),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalogue.person')),
            ],
            options={
                'db_table': 'person_tokens',
            },
        ),
        migrations.CreateModel(
            name='RoleGrant',
            fields=[
                ('grant_id', models.BigAutoField(primary_key=True, serialize=False)),
                ('role', models.CharField(max_length=50)),
                ('granted', models.DateTimeField()),
                ('granted_by', models.CharField(max_length=300)),
                ('organisation', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalogue.organisation')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalogue.person')),
            ],
            options={
                'db_table': 'role_grants',
            },
        ),
        run_on("sqlite", SQLITE_AUDIT_TRIGGERS, SQLITE_AUDIT_TRIGGERS_DROP),
    ]
