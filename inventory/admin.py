from django.contrib import admin

from .models import Channel, ExclusionRule, InventoryParent, InventoryVariant, Listing, Product, ProductVariant


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "generate_frs_on_import", "is_active"]
    search_fields = ["name"]


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "brand", "updated_at"]
    search_fields = ["title", "brand", "variants__master_sku", "variants__upc"]
    inlines = [ProductVariantInline]


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin):
    list_display = ["master_sku", "upc", "title", "product"]
    search_fields = ["master_sku", "upc", "title"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["listing_sku", "channel", "product_variant", "is_active"]
    list_filter = ["channel", "is_active"]
    search_fields = ["listing_sku", "product_variant__master_sku"]


@admin.register(InventoryParent)
class InventoryParentAdmin(admin.ModelAdmin):
    list_display = ["parent_sku", "source", "title", "brand"]
    list_filter = ["source"]
    search_fields = ["parent_sku", "title", "brand"]


@admin.register(InventoryVariant)
class InventoryVariantAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "source",
        "master_sku",
        "upc",
        "title",
        "cost",
        "quantity",
        "committed_quantity",
        "status",
        "is_linked",
        "quantity_updated_at",
    ]
    list_filter = ["source", "status", "is_excluded", ("product_variant", admin.EmptyFieldListFilter)]
    search_fields = ["sku", "master_sku", "upc", "ean", "mpn", "title"]
    list_select_related = ["source"]
    raw_id_fields = ["parent", "product_variant"]
    readonly_fields = ["committed_quantity", "content_hash"]

    @admin.display(boolean=True, description="linked")
    def is_linked(self, obj):
        return obj.product_variant_id is not None


@admin.register(ExclusionRule)
class ExclusionRuleAdmin(admin.ModelAdmin):
    list_display = ["field", "value", "source"]
    list_filter = ["field", "source"]
