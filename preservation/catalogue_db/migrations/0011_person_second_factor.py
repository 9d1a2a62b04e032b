from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0010_person_password'),
    ]

    operations = [
        migrations.AddField(
            model_name='person',
            name='totp_secret',
            field=models.CharField(default='', max_length=80),
        ),
        migrations.AddField(
            model_name='person',
            name='totp_step',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='person',
            name='provider',
            field=models.CharField(default='', max_length=50),
        ),
    ]
