"""kube-scheduler (v1.33) in pure Python: the scheduling framework, the default-profile plugins,
the scheduling algorithm (`schedule.schedule_pod`) and the scheduling queue (`queue.SchedulingQueue`).

The component that watches the apiserver and binds pods lives in `component.py`.
"""
