from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from phonenumber_field.modelfields import PhoneNumberField

from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, validate_name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    TRAINER = "trainer", "Trainer"
    CLIENT = "client", "Client"


STAFF_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER)
MANAGING_ROLES = (Role.OWNER, Role.MANAGER)


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # Emails are compared case-insensitively everywhere, so they are stored lower-cased.
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=self.normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", Role.OWNER)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. In public: a platform admin. In a studio's schema: its staff and clients."""

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=PERSON_NAME_MAX_LENGTH, blank=True, validators=[validate_name])
    last_name = models.CharField(max_length=PERSON_NAME_MAX_LENGTH, blank=True, validators=[validate_name])
    phone = PhoneNumberField(blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)
    is_active = models.BooleanField(default=True)
    # Access to the Django admin; only platform admins (public schema) have it.
    is_staff = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Counts the events that end every session opened before them, as a password change does: two-factor
    # authentication set up or removed (services.user_mfa_changed), the account deactivated
    # (services.staff_deactivate: the sessions stay ended after a reactivation). Part of the session hash.
    session_revision = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def _get_session_auth_hash(self, secret=None) -> str:
        # The method Django's session hash and its SECRET_KEY_FALLBACKS variants both go through. Django's own
        # hash (of the password) until sessions are first ended, so that adding this logged nobody out.
        if not self.session_revision:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "shared_apps.accounts.models.User.get_session_auth_hash"
        value = f"{self.password}\0{self.session_revision}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def is_studio_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def manages_studio(self) -> bool:
        return self.role in MANAGING_ROLES
