from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rounds', '0008_round_lifecycle'),
    ]

    operations = [
        migrations.AddField(
            model_name='round',
            name='owner',
            field=models.JSONField(blank=True, default=dict, editable=False, help_text='正在运行本轮的进程（主机、进程号、启动时刻）：进程已不存在的“检查中”轮次记为已中断', verbose_name='运行进程'),
        ),
        migrations.AddField(
            model_name='round',
            name='run_options',
            field=models.JSONField(blank=True, default=dict, editable=False, help_text='抓取参数和并发设置，继续被中断的轮次时沿用', verbose_name='运行参数'),
        ),
    ]
