from django.apps import AppConfig


class PoolsConfig(AppConfig):
    name = "pools"
    verbose_name = "Pools"

    def ready(self) -> None:
        from accounts.access import Who, access_holder_register
        from pools.selectors import coordinator_of

        access_holder_register(Who.COORDINATOR, coordinator_of, related="coordinator")
