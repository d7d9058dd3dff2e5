from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers"

    def ready(self) -> None:
        from accounts.access import Who, access_holder_register
        from providers.selectors import member_for_user

        access_holder_register(Who.PROVIDER, lambda user: member_for_user(user=user))
